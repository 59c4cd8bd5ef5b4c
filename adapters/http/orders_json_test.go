package http

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzOrdersJSON: the hand-written encoders of the orders page and of a
// buy's answer write byte for byte what encoding/json's Encoder (c.JSON)
// writes, or decline exactly where encoding/json fails.
func FuzzOrdersJSON(f *testing.F) {
	f.Add(int64(1), "user1", "stock1", "accepted", int64(1200), int64(3), int64(1764400000123456789), "c2VjcmV0", true, 2)
	f.Add(int64(-5), "<b>&é\x00\"\\\u2028", "st\xffck", "denied", int64(-1), int64(0), int64(0), "", false, 1)
	f.Add(int64(9), "u", "s", "accepted", int64(1), int64(1), int64(-1<<62), "n<>", true, 3)
	f.Add(int64(9), "u", "s", "accepted", int64(1), int64(1), int64(1<<62), "", false, 0)
	f.Add(int64(2), "a<b", "s>", "a&b", int64(1), int64(1), int64(0), "\u007f", true, 1)
	f.Fuzz(func(t *testing.T, id int64, user, stock, status string, price, qty, nanos int64, next string, hasNext bool, n int) {
		// Seconds as well as nanoseconds, so that years outside 0-9999
		// and zero fractions both occur.
		created := time.Unix(0, nanos).UTC()
		if n%2 == 1 {
			created = time.Unix(nanos/7, nanos%1000).UTC()
		}
		resp := ordersResponse{}
		if n >= 0 {
			resp.Results = make([]orderJSON, n%4)
		}
		for i := range resp.Results {
			// The side is fuzzed as the status is: a string the encoder
			// must quote as encoding/json does.
			resp.Results[i] = orderJSON{ID: id + int64(i), User: user, Stock: stock, Side: status + next, Status: status, Price: price, Quantity: qty, CreationDate: created}
		}
		if hasNext {
			resp.Next = &next
		}
		if len(resp.Results) > 0 {
			buy := buyResponse{Result: next, Order: resp.Results[0], Credit: price ^ qty}
			var want bytes.Buffer
			wantErr := json.NewEncoder(&want).Encode(buy)
			got, ok := appendBuyJSON(nil, buy)
			if ok != (wantErr == nil) || ok && !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("buy: appender wrote (ok %v)\n%s\nencoding/json wrote (%v)\n%s", ok, got, wantErr, want.Bytes())
			}
		}
		var want bytes.Buffer
		wantErr := json.NewEncoder(&want).Encode(resp)
		results := len(resp.Results)
		if resp.Results == nil {
			results = -1
		}
		got, ok := appendOrdersJSON(nil, results, func(i int) orderJSON { return resp.Results[i] }, resp.Next)
		if ok != (wantErr == nil) {
			t.Fatalf("encoding/json error %v, appender ok %v", wantErr, ok)
		}
		if !ok {
			return
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appender wrote\n%s\nencoding/json wrote\n%s", got, want.Bytes())
		}
	})
}
