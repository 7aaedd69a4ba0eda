// Package process is authbench's process plumbing: the WFS process's main
// (Serve, the `authbench serve` command) and its control channel
// (ServerReport, job events), the launcher that starts a WFS process apart
// from its load generator and talks to it (ServerLauncher, WFSProcess,
// Attach), CPU pinning and the split of CPUs between the two sides (Pin,
// SplitCPUs) and the cgroup CPU quota that caps a WFS process. The load
// engine (package scenarios) drives it; it knows nothing of scenarios.
package process
