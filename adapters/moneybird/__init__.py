"""The Moneybird adapter: client → resources → mapping → adapter, plus an emulator."""
