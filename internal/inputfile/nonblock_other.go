//go:build !unix

package inputfile

// nonblock is 0 where opening cannot be made non-blocking; Open checks the
// file type before opening.
const nonblock = 0
