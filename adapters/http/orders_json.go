package http

import (
	"encoding/json"
	"strconv"
	"time"
)

// appendOrdersJSON appends a page of n orders (order(i) is the i-th; n < 0
// writes "results":null, as for a nil list) and next, exactly as c.JSON
// writes an ordersResponse (encoding/json's Encoder: HTML characters
// escaped, a newline at the end), without reflection: reflection and
// re-compacting each time's MarshalJSON were a quarter of an orders
// page's CPU. order converts one order at a time, so that the page needs
// no slice of orderJSON of its own. FuzzOrdersJSON holds the two equal.
// ok is false when a creation date is one MarshalJSON refuses (a year
// outside 0-9999): the caller then lets encoding/json say so.
func appendOrdersJSON(b []byte, n int, order func(i int) orderJSON, next *string) (_ []byte, ok bool) {
	b = append(b, `{"results":`...)
	if n < 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendOrderJSON(b, order(i)); !ok {
				return b, false
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"next":`...)
	if next == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *next)
	}
	return append(b, "}\n"...), true
}

// appendBuyJSON appends the answer of a buy as c.JSON writes it, like
// appendOrdersJSON (FuzzOrdersJSON holds it equal to encoding/json too).
func appendBuyJSON(b []byte, resp buyResponse) (_ []byte, ok bool) {
	b = append(b, `{"result":`...)
	b = appendJSONString(b, resp.Result)
	b = append(b, `,"order":`...)
	if b, ok = appendOrderJSON(b, resp.Order); !ok {
		return b, false
	}
	b = append(b, `,"credit":`...)
	b = strconv.AppendInt(b, resp.Credit, 10)
	return append(b, "}\n"...), true
}

func appendOrderJSON(b []byte, o orderJSON) ([]byte, bool) {
	if y := o.CreationDate.Year(); y < 0 || y > 9999 {
		return b, false
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, o.ID, 10)
	b = append(b, `,"user":`...)
	b = appendJSONString(b, o.User)
	b = append(b, `,"stock":`...)
	b = appendJSONString(b, o.Stock)
	b = append(b, `,"side":`...)
	b = appendJSONString(b, o.Side)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, o.Status)
	b = append(b, `,"price":`...)
	b = strconv.AppendInt(b, o.Price, 10)
	b = append(b, `,"quantity":`...)
	b = strconv.AppendInt(b, o.Quantity, 10)
	b = append(b, `,"creation_date":"`...)
	// What time.Time.MarshalJSON writes for a year in 0-9999.
	b = o.CreationDate.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...), true
}

// appendJSONString appends s quoted: printable ASCII without ", \ and the
// HTML characters as it is, anything else as encoding/json escapes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
