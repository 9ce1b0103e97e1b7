package analyze

// ssSummaryFormat is a placeholder: the parser is not written yet.
var ssSummaryFormat = &Format{Name: "ss-summary", Description: "(not implemented yet)"}
