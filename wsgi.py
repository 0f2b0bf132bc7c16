from field_ops import create_app
from field_ops.routing import solver

app = create_app()
solver.install_signal_handlers()  # SIGTERM stops the solver's worker processes with the server
solver.warm_up()  # the route solver's worker processes start now, not on the first plan
