// Package input reads untrusted input safely: a command-line argument
// becomes a stream of files (a plain file, a folder walked without
// following links, a tar, tar.gz or zip archive streamed and never
// extracted, or standard input), each with its display name. Names that
// leave the archive, links, devices and nested archives are skipped with a
// reason; sizes, member counts and line lengths are capped by Limits and
// fail with ErrLimit naming the file. DecodeText turns UTF-16 and legacy
// code pages (Windows consoles) into UTF-8.
//
// Imports: the standard library, klauspost/compress and x/text; nothing
// of tcpsnap. It knows bytes and files, not formats.
//
// Recipe — a new archive type: detect it by its magic bytes in WalkInput,
// walk its members with the same cleanMember and Limits checks as walkTar,
// and add hostile cases (traversal, links, bombs) to analyze/input_test.go.
package input
