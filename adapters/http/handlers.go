package http

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"stockd/app"
	"stockd/domain"
)

type handlers struct {
	buy    *app.BuyStock
	list   *app.ListOrders
	orders *prometheus.CounterVec // judged orders by status
}

// buyRequest uses pointers so that a missing field is told from a zero.
type buyRequest struct {
	User      *string `json:"user"`
	Stockname *string `json:"stockname"`
	Quantity  *int64  `json:"quantity"`
}

type orderJSON struct {
	ID           int64     `json:"id"`
	User         string    `json:"user"`
	Stock        string    `json:"stock"`
	Status       string    `json:"status"`
	Price        int64     `json:"price"`
	Quantity     int64     `json:"quantity"`
	CreationDate time.Time `json:"creation_date"`
}

func toOrderJSON(o domain.Order) orderJSON {
	return orderJSON{
		ID: o.ID(), User: o.User(), Stock: o.Stock(), Status: string(o.Status()),
		Price: o.Price(), Quantity: o.Quantity(), CreationDate: o.CreatedAt().UTC(),
	}
}

type buyResponse struct {
	Result string    `json:"result"`
	Order  orderJSON `json:"order"`
	Credit int64     `json:"credit"`
}

const maxIdempotencyKey = 255

func (h *handlers) buyStock(c echo.Context) error {
	req, err := decodeBuyRequest(c.Request())
	if err != nil {
		return err
	}
	if err := authorizeBuyer(c, *req.User); err != nil {
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return withStatus(http.StatusBadRequest, fmt.Errorf("Idempotency-Key is longer than %d bytes", maxIdempotencyKey))
	}
	res, err := h.buy.Execute(c.Request().Context(), app.BuyStockCommand{
		User: *req.User, Stock: *req.Stockname, Quantity: *req.Quantity, IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	h.orders.WithLabelValues(string(res.Order.Status())).Inc()
	result := "Deny"
	if res.Order.Status() == domain.Accepted {
		result = "Accept"
	}
	return c.JSON(http.StatusCreated, buyResponse{Result: result, Order: toOrderJSON(res.Order), Credit: res.Credit})
}

// decodeBuyRequest accepts exactly one JSON object with the three fields
// and their types, and nothing after it.
func decodeBuyRequest(r *http.Request) (buyRequest, error) {
	body := http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req buyRequest
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, err
		}
		return req, withStatus(http.StatusBadRequest, jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, err
		}
		return req, withStatus(http.StatusBadRequest, errors.New("body: data after the JSON object"))
	}
	switch {
	case req.User == nil:
		return req, withStatus(http.StatusBadRequest, errors.New(`body: "user" is missing`))
	case req.Stockname == nil:
		return req, withStatus(http.StatusBadRequest, errors.New(`body: "stockname" is missing`))
	case req.Quantity == nil:
		return req, withStatus(http.StatusBadRequest, errors.New(`body: "quantity" is missing`))
	}
	return req, nil
}

// jsonProblem rewords a decoding error for the client, in the API's terms
// rather than Go's.
func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return errors.New("body must be a JSON object")
	case errors.As(err, &te) && te.Field == "quantity":
		return fmt.Errorf(`body: "quantity" must be an integer from 1 to 9223372036854775807, not %s`, te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("body: %q must be a %s, not %s", te.Field, te.Type.Kind(), te.Value)
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("body is not valid JSON: %v", err)
	case errors.Is(err, io.EOF):
		return errors.New("body is empty: want a JSON object")
	}
	return fmt.Errorf("body: %v", err) // an unknown field, named by encoding/json
}

type ordersResponse struct {
	Results []orderJSON `json:"results"`
	Next    *string     `json:"next"`
}

func (h *handlers) listOrders(c echo.Context) error {
	if _, err := url.ParseQuery(c.Request().URL.RawQuery); err != nil {
		return withStatus(http.StatusBadRequest, fmt.Errorf("query string: %w", err))
	}
	q := app.ListOrdersQuery{Limit: domain.DefaultPageSize}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return withStatus(http.StatusBadRequest, domain.ErrBadPageSize)
		}
		q.Limit = n
	}
	if s := c.QueryParam("cursor"); s != "" {
		cur, err := decodeCursor(s)
		if err != nil {
			return withStatus(http.StatusBadRequest, err)
		}
		q.Cursor = &cur
	}
	page, err := h.list.Execute(c.Request().Context(), q)
	if err != nil {
		return err
	}
	resp := ordersResponse{Results: make([]orderJSON, len(page.Orders))}
	for i, o := range page.Orders {
		resp.Results[i] = toOrderJSON(o)
	}
	if page.Next != nil {
		s := encodeCursor(*page.Next)
		resp.Next = &s
	}
	return c.JSON(http.StatusOK, resp)
}

// cursorJSON is the cursor's wire form, base64url-encoded so that it is an
// opaque token to clients.
type cursorJSON struct {
	AsOf      int64 `json:"a"` // Unix nanoseconds
	CreatedAt int64 `json:"c"` // Unix microseconds
	ID        int64 `json:"i"`
}

func encodeCursor(c app.Cursor) string {
	b, _ := json.Marshal(cursorJSON{AsOf: c.AsOf.UnixNano(), CreatedAt: c.After.CreatedAt.UnixMicro(), ID: c.After.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (app.Cursor, error) {
	bad := errors.New("cursor is not one this server gave out")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return app.Cursor{}, bad
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var cj cursorJSON
	if err := dec.Decode(&cj); err != nil || cj.ID <= 0 || cj.AsOf <= 0 {
		return app.Cursor{}, bad
	}
	return app.Cursor{
		AsOf:  time.Unix(0, cj.AsOf).UTC(),
		After: domain.OrderPosition{CreatedAt: time.UnixMicro(cj.CreatedAt).UTC(), ID: cj.ID},
	}, nil
}
