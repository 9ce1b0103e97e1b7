package analyze

// ssFormat is a placeholder: the parser is not written yet.
var ssFormat = &Format{Name: "ss", Description: "(not implemented yet)"}
