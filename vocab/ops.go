package vocab

// Op names, "group.op", as the scenario engine records them, thresholds name them
// (cli.command_total.p99) and reports read them.
const (
	OpCLICommand   = "cli.command_total"
	OpCLIAcquire   = "cli.acquire"
	OpCLIRoundTrip = "cli.round_trip"
	OpCLIHandshake = "cli.handshake"
	OpJobMessage   = "job.message"
	OpJobAcquire   = "job.acquire"
	OpJobRoundTrip = "job.round_trip"
	OpJobHandshake = "job.handshake"
	OpUISPoll      = "uis.poll"
	// OpUISDelta is one published delta a UI server received, its latency
	// from the WFS's publish time to its receipt.
	OpUISDelta = "uis.delta"
	// OpWLCGTransfer is one WLCG transfer of a token flow (package flows),
	// from its intended start to both storage elements accepting.
	OpWLCGTransfer = "wlcg.transfer"
	OpCLIProcess   = "cli.process_total"
	OpJobProcess   = "job.process_total"
	OpCLIInterp    = "cli.interpreter_import"
	OpJobInterp    = "job.interpreter_import"
	// OpCLIProcessCPU and OpJobProcessCPU are a Python client process's
	// own CPU (user+system), recorded as a duration per process.
	OpCLIProcessCPU = "cli.process_cpu"
	OpJobProcessCPU = "job.process_cpu"
	// OpCLISendLag and OpJobSendLag are how far behind their intended time
	// open-loop sends started: the load generator's own lag, not the WFS's.
	OpCLISendLag = "cli.send_lag"
	OpJobSendLag = "job.send_lag"
)
