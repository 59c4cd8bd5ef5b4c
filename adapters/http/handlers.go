package http

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

type handlers struct {
	buy       *app.BuyStock
	sell      *app.SellStock
	positions *app.GetPositions
	list      *app.ListOrders
	get       *app.GetOrder
	users     *app.GetUser
	cursors   *cursorCodecs
	orders    *orderMetrics
}

type orderJSON struct {
	ID           int64     `json:"id"`
	User         string    `json:"user"`
	Stock        string    `json:"stock"`
	Side         string    `json:"side"`
	Status       string    `json:"status"`
	Price        int64     `json:"price"`
	Quantity     int64     `json:"quantity"`
	CreationDate time.Time `json:"creation_date"`
}

func toOrderJSON(o domain.Order) orderJSON {
	return orderJSON{
		ID: o.ID(), User: o.User(), Stock: o.Stock(), Side: string(o.Side()), Status: string(o.Status()),
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
	return h.trade(c, func(ctx context.Context, req buyRequest, key string) (ports.Outcome, bool, error) {
		res, err := h.buy.Execute(ctx, app.BuyStockCommand{
			User: req.User, Stock: req.Stockname, Quantity: req.Quantity, IdempotencyKey: key,
		})
		return res.Outcome, res.Replayed, err
	})
}

// sellStock is buyStock's twin: the same body, headers and answers, a
// sale judged against the user's position.
func (h *handlers) sellStock(c echo.Context) error {
	return h.trade(c, func(ctx context.Context, req buyRequest, key string) (ports.Outcome, bool, error) {
		res, err := h.sell.Execute(ctx, app.SellStockCommand{
			User: req.User, Stock: req.Stockname, Quantity: req.Quantity, IdempotencyKey: key,
		})
		return res.Outcome, res.Replayed, err
	})
}

// trade reads a buy's or a sale's request (body, token, Idempotency-Key),
// runs it with execute, and answers 201 with the result, the order (and
// its Location) and the credit.
func (h *handlers) trade(c echo.Context, execute func(ctx context.Context, req buyRequest, key string) (ports.Outcome, bool, error)) error {
	req, err := decodeBuyRequest(c.Request())
	if err != nil {
		return err
	}
	if err := authorizeUser(c, req.User); err != nil {
		return err
	}
	keys := c.Request().Header.Values("Idempotency-Key")
	if len(keys) > 1 {
		// Taking the first would let a proxy that kept another one see a
		// different request than the service did.
		return fail(probBadKey, "send one Idempotency-Key header, not several", nil)
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return fail(probBadKey, "", nil)
	}
	out, replayed, err := execute(c.Request().Context(), req, key)
	if err != nil {
		return withInput(err, req.User, req.Stockname)
	}
	h.orders.count(out.Order, replayed)
	result := "Deny"
	if out.Order.Status() == domain.Accepted {
		result = "Accept"
	}
	// The order is a resource of its own (RFC 9110 15.3.2).
	c.Response().Header().Set(echo.HeaderLocation, orderPath(out.Order.ID()))
	resp := buyResponse{Result: result, Order: toOrderJSON(out.Order), Credit: out.Credit}
	if !indented(c) {
		if b, ok := appendBuyJSON(make([]byte, 0, 256), resp); ok {
			return c.JSONBlob(http.StatusCreated, b)
		}
	}
	return c.JSON(http.StatusCreated, resp)
}

// indented says whether c.JSON would indent the answer (Echo's ?pretty,
// or debug mode): encoding/json does that, the hand-written encoders do
// not.
func indented(c echo.Context) bool {
	if c.Echo().Debug {
		return true
	}
	if c.Request().URL.RawQuery == "" {
		return false // most requests: no query to parse
	}
	_, pretty := c.QueryParams()["pretty"]
	return pretty
}

type ordersResponse struct {
	Results []orderJSON `json:"results"`
	Next    *string     `json:"next"`
}

// listOrders lists the visible orders: with tokens the token user's only;
// without, everyone's or those of the user parameter.
func (h *handlers) listOrders(c echo.Context) error {
	if _, err := url.ParseQuery(c.Request().URL.RawQuery); err != nil {
		return fail(probBadQuery, "", errMalformedQuery)
	}
	q := app.ListOrdersQuery{Limit: domain.DefaultPageSize, User: c.QueryParam("user")}
	if s := c.QueryParam("side"); s != "" {
		side, err := domain.ParseSide(s)
		if err != nil {
			return fail(probBadQuery, "side is buy or sell", nil)
		}
		q.Side = side
	}
	if user, ok := tokenUser(c); ok {
		if q.User != "" && q.User != user {
			return fail(probForbidden, "", nil)
		}
		q.User = user
	}
	if s := c.QueryParam("limit"); s != "" {
		n, err := pageSize(s)
		if err != nil {
			return fail(probBadLimit, "", err)
		}
		q.Limit = n
	}
	cursors, err := h.cursors.get(c.Request().Context())
	if err != nil {
		return err
	}
	if s := c.QueryParam("cursor"); s != "" {
		cur, err := cursors.decode(s)
		if err != nil {
			return fail(probBadCursor, "", err)
		}
		q.Cursor = &cur
	}
	page, err := h.list.Execute(c.Request().Context(), q)
	if err != nil {
		return err
	}
	var next *string
	if page.Next != nil {
		s := cursors.encode(*page.Next)
		next = &s
		c.Response().Header().Set("Link", nextLink(c.Request().URL, s))
	}
	if !indented(c) {
		order := func(i int) orderJSON { return toOrderJSON(page.Orders[i]) }
		buf := pageBuffers.Get().(*[]byte)
		b, ok := appendOrdersJSON(slices.Grow((*buf)[:0], 64+160*len(page.Orders)), len(page.Orders), order, next)
		defer func() {
			// Written by then: an io.Writer keeps nothing of what it
			// was given once Write returned (net/http and the gzip
			// middleware copy what they keep; a writer added on this
			// route must too), so the buffer can serve the next page.
			if cap(b) <= maxPooledPage {
				*buf = b[:0]
				pageBuffers.Put(buf)
			}
		}()
		if ok {
			// A length known up front spares net/http the chunked
			// encoding, which wrote a page of 100 orders in four or five
			// syscalls instead of two (the gzip middleware drops it when
			// it compresses).
			c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
			return c.JSONBlob(http.StatusOK, b)
		}
	}
	resp := ordersResponse{Results: make([]orderJSON, len(page.Orders)), Next: next}
	for i, o := range page.Orders {
		resp.Results[i] = toOrderJSON(o)
	}
	return c.JSON(http.StatusOK, resp)
}

// pageBuffers holds the buffers orders pages were written in: a page of
// 100 is 16 KB, which, made anew for each page, was as much garbage as
// the rest of the request.
var pageBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledPage bounds a buffer kept for the next page (a page of
// MaxPageSize is about 160 KB), so that a pool holds no more than a few
// such pages.
const maxPooledPage = 256 << 10

// nextLink is the RFC 8288 Link to the next page: this request's path and
// query with the cursor of the next page, so that limit and user carry on.
func nextLink(u *url.URL, cursor string) string {
	q := u.Query()
	q.Set("cursor", cursor)
	return "<" + u.Path + "?" + q.Encode() + `>; rel="next"`
}

func orderPath(id int64) string { return "/api/orders/" + strconv.FormatInt(id, 10) }

// getOrder shows one order; with tokens only one the token user's listing
// shows, and 404 for any other, so that ids reveal nothing of others.
func (h *handlers) getOrder(c echo.Context) error {
	s := c.Param("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 || strings.Trim(s, "0123456789") != "" {
		return fail(probUnknownOrder, "", err) // no order has such an id
	}
	viewer, _ := tokenUser(c)
	o, err := h.get.Execute(c.Request().Context(), app.GetOrderQuery{ID: id, VisibleTo: viewer})
	if errors.Is(err, ports.ErrOrderNotFound) {
		return fail(probUnknownOrder, "", err)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrderJSON(o))
}

// errNotDigits is a number written other than as plain decimal digits.
var errNotDigits = errors.New("not plain decimal digits")

// pageSize reads limit as plain decimal digits only: strconv.Atoi also
// takes "+5", and a value one parser takes and another refuses is how a
// cache or proxy and the service come to disagree.
func pageSize(s string) (int, error) {
	if len(s) > 7 || strings.Trim(s, "0123456789") != "" {
		return 0, errNotDigits
	}
	return strconv.Atoi(s)
}

type userResponse struct {
	User   string `json:"user"`
	Credit int64  `json:"credit"`
}

// getUser shows a user's credit; with tokens only the token's own user,
// and a 403 for any other whether it exists or not.
func (h *handlers) getUser(c echo.Context) error {
	name := c.Param("user")
	if err := authorizeUser(c, name); err != nil {
		return err
	}
	u, err := h.users.Execute(c.Request().Context(), name)
	if err != nil {
		return inPath(withInput(err, name, ""))
	}
	return c.JSON(http.StatusOK, userResponse{User: u.Name, Credit: u.Credit})
}

type positionJSON struct {
	Stock         string   `json:"stock"`
	Quantity      int64    `json:"quantity"`
	CostBasis     int64    `json:"cost_basis"`
	AvgEntryPrice string   `json:"avg_entry_price"`
	Price         *int64   `json:"price"`
	MarketValue   *big.Int `json:"market_value"`
	UnrealizedPL  *big.Int `json:"unrealized_pl"`
}

type positionsResponse struct {
	User      string         `json:"user"`
	Credit    int64          `json:"credit"`
	Positions []positionJSON `json:"positions"`
}

// getPositions shows what a user holds, priced at the latest prices; with
// tokens only the token's own user (403 for any other, as getUser).
// Market value and P&L are exact integers: quantity x price may pass
// 2^63, so they are written from big integers, never floats.
func (h *handlers) getPositions(c echo.Context) error {
	name := c.Param("user")
	if err := authorizeUser(c, name); err != nil {
		return err
	}
	p, err := h.positions.Execute(c.Request().Context(), name)
	if err != nil {
		return inPath(withInput(err, name, ""))
	}
	resp := positionsResponse{User: p.User, Credit: p.Credit, Positions: make([]positionJSON, len(p.Positions))}
	for i, held := range p.Positions {
		pos := held.Position
		j := positionJSON{Stock: held.Stock, Quantity: pos.Quantity(), CostBasis: pos.CostBasis(), AvgEntryPrice: pos.AvgEntryPrice()}
		if held.Price > 0 {
			price := held.Price
			j.Price, j.MarketValue, j.UnrealizedPL = &price, pos.MarketValue(price), pos.UnrealizedPL(price)
		}
		resp.Positions[i] = j
	}
	return c.JSON(http.StatusOK, resp)
}
