// Package formats is the registry of input formats: the ordered table of
// every Format (formats.go), detection by score over the head of an input
// (Detect), lookup by name and bundle path, and ParseFormat, which cuts a
// large listing into pieces parsed on every core and joined so that the
// result equals one whole parse. The parsers live by family in
// formats/linux, formats/unix (BSD, macOS, Solaris, AIX, lsof) and
// formats/windows; uniq_counts.go (pasted `| sort | uniq -c` counts) is
// here because it belongs to no system.
//
// Imports: parse, model and the family packages. Imported by ticket and
// analyze.
//
// Tests for every format live here, because they run through the table:
// testdata/<format>/<case>.txt with its <case>.golden (the Listing dump;
// go test ./analyze/formats -update rewrites them), a detection check per
// case, a fuzz target per parser seeded from testdata in small windows
// and from crafted inputs (fuzzFormat: no panic, problems inside the
// input, pieces equal the whole), the pieces property over every case
// (pieces_property_test.go), and negative inputs in testdata/negative.
//
// Recipe — add a format:
//  1. write formats/<family>/<name>.go: var <Name>Format = &parse.Format{Name,
//     Description, Example, Paths, Detect, Parse[, Cut]} with its detect and
//     parse functions (parse.LineScanner, parse.Fields; problems through
//     Listing.Problemf with the line number);
//  2. add it to the table in formats.go (order breaks detection ties);
//  3. add testdata/<name>/*.txt from real captures, run go test
//     ./analyze/formats -update, read the goldens, and add
//     func FuzzParse<Name>(f *testing.F) { fuzzFormat(f, "<name>") };
//  4. list it in the README's format table.
package formats
