"""GET /api/v1/health reports whether Temporal answers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.devserver import free_port
from core.settings import Settings


def test_health_is_ok_when_temporal_answers(dev_env: WorkflowEnvironment) -> None:
    host, port = dev_env.client.service_client.config.target_host.rsplit(":", 1)
    with TestClient(create_app(Settings(temporal_host=host, temporal_port=int(port)))) as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["temporal"] == {
        "connected": True,
        "address": f"{host}:{port}",
        "namespace": "default",
        "error": None,
    }


def test_health_is_degraded_when_temporal_is_down() -> None:
    port = free_port()
    with TestClient(create_app(Settings(temporal_port=port))) as client:
        response = client.get("/api/v1/health")
        docs = client.get("/api/docs")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["temporal"]["connected"] is False
    assert f"127.0.0.1:{port}" in body["temporal"]["error"]
    assert docs.status_code == 200
