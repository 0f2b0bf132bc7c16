from field_ops import create_app
from field_ops.routing import solver

app = create_app()
solver.warm_up()  # the route solver's worker processes start now, not on the first plan
