# The layers of src/ and which components each may include (`#include "component/..."`). Each
# line lists a component's direct dependencies; the build fails (target check_layers) when a file
# includes a component that is not listed. Tests (*_test.cc) may also use sim (generated markets)
# and tests/support. ARCHITECTURE.md draws the same graph.
set(PAIRFLOW_LAYER_base "")
set(PAIRFLOW_LAYER_model "base")
set(PAIRFLOW_LAYER_stats "base")
set(PAIRFLOW_LAYER_sim "base;model")
set(PAIRFLOW_LAYER_features "base;model;stats")
set(PAIRFLOW_LAYER_screen "base;model;stats")
set(PAIRFLOW_LAYER_pairs "base;model;stats")
set(PAIRFLOW_LAYER_portfolio "base;model")
set(PAIRFLOW_LAYER_exec "base;model;portfolio")
set(PAIRFLOW_LAYER_stream "base;model")
set(PAIRFLOW_LAYER_embed "base;model;stream")
set(PAIRFLOW_LAYER_engine "base;model;stats;sim;features;screen;pairs;portfolio;exec")
set(PAIRFLOW_LAYER_jobs "base;model;stream;engine;exec;features;pairs;screen")
set(PAIRFLOW_LAYER_app "base;model;sim;stream;engine;jobs;embed")
set(PAIRFLOW_LAYER_cli "base;model;stats;sim;features;screen;exec;stream;engine;app")
