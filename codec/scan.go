package codec

import (
	"bytes"
	"errors"
)

var errScan = errors.New("codec: malformed JSON")

// countItems counts the elements of data.records, data.sleep and
// data.workouts without decoding anything, so that a body with too many items
// is refused before it costs memory. It is a byte scanner that tracks strings,
// nesting and the keys on the way down; on malformed input it gives up and
// leaves the verdict to the decoder.
func countItems(body []byte) (int, error) {
	c, err := countCollections(body)
	return c[0] + c[1] + c[2], err
}

// countCollections counts the elements of data.records, data.sleep and
// data.workouts, in that order.
func countCollections(body []byte) ([3]int, error) {
	const maxDepth = 4096
	type frame struct {
		array  bool
		coll   int  // 1, 2, 3 for an array whose elements are records, sleep stages, workouts
		inData bool // the object that is the value of the root's "data"
	}
	stack := make([]frame, 0, 16)
	var (
		n       [3]int
		lastKey []byte // a slice of body: no copy
		keyNext bool   // the next string in an object is a key
	)
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case ' ', '\t', '\r', '\n', ',', ':':
			if c == ',' && len(stack) > 0 && !stack[len(stack)-1].array {
				keyNext = true
			}
			continue
		case '"':
			start := i + 1
			end, ok := stringEnd(body, start)
			if !ok {
				return n, errScan
			}
			i = end
			if len(stack) > 0 && !stack[len(stack)-1].array && keyNext {
				lastKey = body[start:i]
				keyNext = false
				continue
			}
		case '{', '[':
			if len(stack) >= maxDepth {
				return n, errScan
			}
			f := frame{array: c == '['}
			depth := len(stack)
			if depth == 1 && !stack[0].array && c == '{' && string(lastKey) == "data" {
				f.inData = true
			}
			if depth == 2 && stack[1].inData && c == '[' {
				switch string(lastKey) {
				case "records":
					f.coll = 1
				case "sleep":
					f.coll = 2
				case "workouts":
					f.coll = 3
				}
			}
			if len(stack) > 0 && stack[len(stack)-1].coll > 0 {
				n[stack[len(stack)-1].coll-1]++
			}
			stack = append(stack, f)
			keyNext = c == '{'
			continue
		case '}', ']':
			if len(stack) == 0 {
				return n, errScan
			}
			stack = stack[:len(stack)-1]
			continue
		}
		// A scalar value (or the end of a string value).
		if len(stack) > 0 && stack[len(stack)-1].coll > 0 {
			n[stack[len(stack)-1].coll-1]++
			// Skip the rest of a bare scalar so that it counts once.
			for i+1 < len(body) && c != '"' && !isDelim(body[i+1]) {
				i++
			}
		}
	}
	return n, nil
}

func isDelim(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// stringEnd returns the index of the quote that closes the string whose
// contents start at start: the first quote not escaped by an odd run of
// backslashes. Strings are most of a body's bytes, and IndexByte crosses
// them many bytes at a time.
func stringEnd(body []byte, start int) (int, bool) {
	for j := start; ; j++ {
		k := bytes.IndexByte(body[j:], '"')
		if k < 0 {
			return 0, false
		}
		j += k
		escapes := 0
		for p := j - 1; p >= start && body[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return j, true
		}
	}
}
