"""What every Stepwise process shares: settings, plugins, storage, clients."""
