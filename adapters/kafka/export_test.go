package kafka

// DecodeTickJSON is the general path of DecodeTick, for the tests that
// hold the fast path to it.
var DecodeTickJSON = decodeTickJSON
