// Package parse is what every format parser is made of: the Format type
// (detection score, parser, bundle paths, how to cut a large input into
// pieces), the LineScanner over untrusted text (capped line length; lines
// end at "\n", "\r\n" or a lone "\r"; in-place scanning of text already
// in memory), field splitting eight
// bytes at a time, and number parsing without allocation.
//
// Imports: model. Imported by the format packages, formats, ticket and
// analyze.
//
// Recipe — a parser helper two formats share goes here, with a test in
// lines_test.go; a helper one format needs stays in that format's file.
package parse
