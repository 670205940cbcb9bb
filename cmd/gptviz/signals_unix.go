//go:build unix

package main

import (
	"os"
	"syscall"
)

// stopSignals cancel a run as Ctrl-C does: SIGINT, and SIGTERM and SIGHUP
// (a kill, a closed terminal), so that every one leaves no partial file and
// train saves its checkpoint.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
