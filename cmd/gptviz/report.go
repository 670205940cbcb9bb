package main

import (
	"context"
	"errors"
	"io"
)

// runReport is a placeholder until the report command is written.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("report: not implemented yet")
}
