"""What the tests share: the app under test, request bodies, the world builder, SQL and audit
helpers. Test modules import from here, never from each other or from conftest."""
