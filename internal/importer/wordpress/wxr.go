package wordpress

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// The export is cut into <item> elements before any XML parsing, so that
// one broken item (a stray "&", a tag cut short by a failed export) is that
// item's problem alone: encoding/xml gives up on the whole stream at its
// first syntax error. CDATA sections, where WordPress puts every body,
// title and excerpt, are copied through whole, so "</item>" or "<item>"
// inside a story's text never cuts it.

var (
	cdataOpen  = []byte("![CDATA[")
	itemOpen   = []byte("item")
	itemClose  = []byte("/item>")
	cdataClose = []byte("]]>")
)

// chunker reads an export as its head (everything before the first item:
// the site, its authors and terms) and then one item at a time.
type chunker struct {
	r    *bufio.Reader
	head []byte
	// started is set once the first item was met.
	started bool
	// carry is the start of an item met while reading the previous one,
	// whose closing tag was missing.
	carry []byte
}

func newChunker(r io.Reader) *chunker { return &chunker{r: bufio.NewReaderSize(r, 1<<20)} }

// Head is what came before the first item; valid once Next has been
// called.
func (c *chunker) Head() []byte { return c.head }

// Next returns the next item, from "<item" to "</item>" inclusive, or
// io.EOF. A truncated last item is returned as it is, to fail in decoding
// and be reported.
func (c *chunker) Next() ([]byte, error) {
	if !c.started {
		c.started = true
		var head bytes.Buffer
		if err := c.seekItem(&head); err != nil {
			c.head = head.Bytes()
			return nil, err
		}
		c.head = head.Bytes()
	} else if c.carry == nil {
		if err := c.seekItem(nil); err != nil {
			return nil, err
		}
	}
	item := bytes.NewBuffer(append([]byte("<item"), c.carry...))
	c.carry = nil
	for {
		chunk, err := c.r.ReadSlice('<')
		item.Write(chunk)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if item.Len() > len("<item") {
				return item.Bytes(), nil
			}
			return nil, io.EOF
		}
		switch {
		case c.peekIs(cdataOpen):
			if err := c.copyCDATA(item); err != nil {
				return item.Bytes(), nil
			}
		case c.peekIs(itemClose):
			c.discard(len(itemClose))
			item.WriteString(string(itemClose))
			return item.Bytes(), nil
		case c.peekIsItemStart():
			// An item began before this one ended: this one is broken.
			c.discard(len(itemOpen))
			c.carry = []byte{}
			b := item.Bytes()
			return b[:len(b)-1], nil
		}
	}
}

// seekItem reads up to and including the next "<item" opening tag name,
// writing what it skipped to w when w is not nil.
func (c *chunker) seekItem(w *bytes.Buffer) error {
	for {
		chunk, err := c.r.ReadSlice('<')
		if w != nil {
			w.Write(chunk)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return io.EOF
		}
		switch {
		case c.peekIs(cdataOpen):
			var skip bytes.Buffer
			if err := c.copyCDATA(&skip); err != nil {
				return io.EOF
			}
			if w != nil {
				w.Write(skip.Bytes())
			}
		case c.peekIsItemStart():
			if w != nil {
				w.Truncate(w.Len() - 1) // the '<'
			}
			c.discard(len(itemOpen))
			return nil
		}
	}
}

// copyCDATA copies a CDATA section through its "]]>", the "<" already
// written.
func (c *chunker) copyCDATA(w *bytes.Buffer) error {
	for {
		chunk, err := c.r.ReadSlice('>')
		w.Write(chunk)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return err
		}
		if bytes.HasSuffix(w.Bytes(), cdataClose) {
			return nil
		}
	}
}

func (c *chunker) peekIs(want []byte) bool {
	b, _ := c.r.Peek(len(want))
	return bytes.Equal(b, want)
}

// peekIsItemStart reports whether "item>" or "item " (with attributes)
// follows, not "itemprop" or the like.
func (c *chunker) peekIsItemStart() bool {
	b, _ := c.r.Peek(len(itemOpen) + 1)
	if len(b) < len(itemOpen)+1 || !bytes.Equal(b[:len(itemOpen)], itemOpen) {
		return false
	}
	switch b[len(itemOpen)] {
	case '>', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

func (c *chunker) discard(n int) { _, _ = c.r.Discard(n) }
