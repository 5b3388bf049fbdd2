package sde

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Var is the environment variable that fixes creation times.
const Var = "SOURCE_DATE_EPOCH"

// Created returns given in UTC, truncated to seconds, when it is not zero;
// otherwise the time SOURCE_DATE_EPOCH names; otherwise the Unix epoch.
// A SOURCE_DATE_EPOCH that is not a non-negative decimal integer is an error.
func Created(given time.Time) (time.Time, error) {
	if !given.IsZero() {
		return given.UTC().Truncate(time.Second), nil
	}
	v, ok := os.LookupEnv(Var)
	if !ok || v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("%s=%q: not a non-negative number of seconds", Var, v)
	}
	return time.Unix(n, 0).UTC(), nil
}
