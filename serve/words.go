package serve

import (
	"fmt"
	"strings"
)

// splitWords splits a command line into words as a POSIX shell splits a
// simple command, and does nothing else: blanks (spaces, tabs, newlines)
// separate words; '…' quotes everything up to the next '; "…" quotes
// everything up to the next unescaped ", where a backslash escapes only
// " \ $ ` and a newline; outside quotes a backslash escapes the next
// character and a backslash-newline joins lines. Every other character —
// ; | & < > ( ) $ ` * ? ~ # — is plain text: nothing is expanded,
// substituted, globbed, redirected or run as a second command. It errors
// on an unclosed quote or a trailing backslash.
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	in := false // a word has begun (even an empty one: "")
	rs := s     // bytes: every special character is ASCII, other bytes pass as they are
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		case r == '\\':
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("the command ends with a backslash")
			}
			i++
			if rs[i] != '\n' {
				w.WriteByte(rs[i])
				in = true
			}
		case r == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("a ' quote is not closed")
			}
			w.WriteString(rs[i+1 : j])
			in, i = true, j
		case r == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) && strings.IndexByte("\"\\$`\n", rs[j+1]) >= 0 {
					j++
					if rs[j] != '\n' {
						w.WriteByte(rs[j])
					}
					continue
				}
				w.WriteByte(rs[j])
			}
			if j >= len(rs) {
				return nil, fmt.Errorf(`a " quote is not closed`)
			}
			in, i = true, j
		default:
			w.WriteByte(r)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}
