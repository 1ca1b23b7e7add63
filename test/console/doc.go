// Package console_test drives the web console in a real browser.
package console
