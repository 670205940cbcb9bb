package main

import (
	"context"
	"errors"
	"io"
)

// runGenerate is a placeholder until the generate command is written.
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("generate: not implemented yet")
}
