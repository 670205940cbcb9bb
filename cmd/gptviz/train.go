package main

import (
	"context"
	"errors"
	"io"
)

// runTrain is a placeholder until the train command is written.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("train: not implemented yet")
}
