package csv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
)

// The quote errors are encoding/csv's own.
var (
	errBareQuote = csv.ErrBareQuote
	errQuote     = csv.ErrQuote
)

// rows splits a file into rows of fields as encoding/csv does (RFC 4180,
// comma-separated, strict about quotes, \r\n read as \n, empty lines
// skipped), with two differences the service needs: a row longer than
// MaxLine is refused rather than held in memory, and a row's fields are
// slices of the read buffer (of a buffer of its own when it has quotes),
// so that a row costs no allocation.
// FuzzRowsAgreeWithEncodingCSV holds it to encoding/csv.
type rows struct {
	br     *bufio.Reader
	line   int      // the number of the last line read, from 1
	start  int      // the line where the last row started
	fields [][]byte // the last row, reused
	quoted []byte   // a quoted row being put together
	ends   []int
}

func newRows(r io.Reader) *rows {
	// A line of MaxLine bytes and its newline fit the buffer; a longer one
	// fills it and is refused.
	return &rows{br: bufio.NewReaderSize(r, MaxLine+1)}
}

// readLine returns the next line with \r\n turned into \n, and io.EOF
// only when no byte is left.
func (r *rows) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, &errLineTooLong{start: r.start, line: r.line + 1}
	}
	if len(line) > 0 && errors.Is(err, io.EOF) {
		err = nil
		if line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
	}
	if len(line) == 0 && err == nil {
		err = io.EOF
	}
	if err != nil {
		return nil, err
	}
	r.line++
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, nil
}

// next returns the next row, valid until the following call, or io.EOF.
// A bad row is an error naming its line (*errLineTooLong, or *rowError).
func (r *rows) next() ([][]byte, error) {
	var line []byte
	for {
		r.start = r.line + 1
		var err error
		if line, err = r.readLine(); err != nil {
			return nil, err
		}
		if len(line) != lengthNL(line) {
			break // not an empty line
		}
	}
	if bytes.IndexByte(line, '"') < 0 {
		text := line[:len(line)-lengthNL(line)]
		r.fields = r.fields[:0]
		for {
			i := bytes.IndexByte(text, ',')
			if i < 0 {
				r.fields = append(r.fields, text)
				return r.fields, nil
			}
			r.fields = append(r.fields, text[:i])
			text = text[i+1:]
		}
	}
	return r.nextQuoted(line)
}

// nextQuoted reads a row that has quotes, from its first line, as
// encoding/csv's readRecord does.
func (r *rows) nextQuoted(line []byte) ([][]byte, error) {
	r.quoted, r.ends = r.quoted[:0], r.ends[:0]
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if bytes.IndexByte(field, '"') >= 0 {
				return nil, &rowError{start: r.start, line: r.line, err: errBareQuote}
			}
			r.quoted = append(r.quoted, field...)
			r.ends = append(r.ends, len(r.quoted))
			if i < 0 {
				return r.split(), nil
			}
			line = line[i+1:]
			continue
		}
		line = line[1:]
		for {
			i := bytes.IndexByte(line, '"')
			if i >= 0 {
				r.quoted = append(r.quoted, line[:i]...)
				line = line[i+1:]
				switch {
				case len(line) > 0 && line[0] == '"':
					r.quoted = append(r.quoted, '"')
					line = line[1:]
					continue
				case len(line) > 0 && line[0] == ',':
					line = line[1:]
					r.ends = append(r.ends, len(r.quoted))
				case lengthNL(line) == len(line):
					r.ends = append(r.ends, len(r.quoted))
					return r.split(), nil
				default:
					return nil, &rowError{start: r.start, line: r.line, err: errQuote}
				}
				break
			}
			if len(line) == 0 {
				return nil, &rowError{start: r.start, line: r.line, err: errQuote}
			}
			// The field goes on over the next line.
			r.quoted = append(r.quoted, line...)
			if len(r.quoted) > MaxLine {
				return nil, &errLineTooLong{start: r.start, line: r.line}
			}
			next, err := r.readLine()
			if errors.Is(err, io.EOF) {
				return nil, &rowError{start: r.start, line: r.line, err: errQuote}
			}
			if err != nil {
				return nil, err
			}
			line = next
		}
	}
}

// split cuts r.quoted at r.ends into r.fields.
func (r *rows) split() [][]byte {
	text := r.quoted
	r.fields = r.fields[:0]
	from := 0
	for _, end := range r.ends {
		r.fields = append(r.fields, text[from:end])
		from = end
	}
	return r.fields
}

func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// rowError is a quote error of a row: line is where it was found, start
// where the row began.
type rowError struct {
	start, line int
	err         error
}

func (e *rowError) Error() string { return e.err.Error() }
func (e *rowError) Unwrap() error { return e.err }
