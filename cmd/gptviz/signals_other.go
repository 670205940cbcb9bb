//go:build !unix

package main

import "os"

// stopSignals cancel a run as Ctrl-C does.
var stopSignals = []os.Signal{os.Interrupt}
