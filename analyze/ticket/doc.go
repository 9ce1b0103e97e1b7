// Package ticket reads text that people paste: a ticket, forum post or
// chat with listings among prose, quoted with "> ", indented, fenced,
// after shell prompts, several in one text. ExtractSegments cuts it into
// segments, each a run of lines in one format with its line range and the
// command line that produced it (which narrows detection: `ss -s`,
// `netstat -ano`, `lsof -i`); collectors' files (supportconfig blocks,
// pt-stalk and OSWatcher samples) are split the same way.
//
// Imports: formats (for detection), parse and model. Imported by analyze.
//
// Recipe — a new way people paste: add a line kind to normalize or a
// prompt form to promptCommand, with a ticket under
// analyze/testdata/tickets and its golden (go test ./analyze -update).
package ticket
