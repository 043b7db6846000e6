# passthrough.R: the smallest R job. Publishes every input message unchanged to the job's output
# topic. A template to start from, and the baseline of the R host's throughput (docs/r_jobs.md).
#
#   process(msg): msg is the JSON payload as a named list; returning a named list publishes it.
process <- function(msg) msg
