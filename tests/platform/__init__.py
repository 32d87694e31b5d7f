"""Settings, HTTP and signing, the manifest, migrations, layers, the CLI boundary, reliability."""
