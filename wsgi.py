from field_ops import create_app

app = create_app()
