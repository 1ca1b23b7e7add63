package iam

import (
	"fmt"
	"slices"
)

// predefinedDocs are the built-in policies, known to every node without
// being stored in Raft. Their names cannot be used by managed policies.
var predefinedDocs = map[string]string{
	"readonly":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetObject"],"Resource":["arn:aws:s3:::*"]}]}`,
	"writeonly": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::*"]}]}`,
	"readwrite": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}`,
}

// predefined holds the parsed built-in policies; it is built once at
// package initialisation and never modified.
var predefined = func() map[string]*Policy {
	m := make(map[string]*Policy, len(predefinedDocs))
	for name, doc := range predefinedDocs {
		p, err := ParsePolicy([]byte(doc), IdentityPolicy, "")
		if err != nil {
			panic(fmt.Sprintf("iam: predefined policy %s does not parse: %v", name, err))
		}
		m[name] = p
	}
	return m
}()

// Predefined returns the built-in policy called name: "readonly"
// (s3:GetBucketLocation, s3:GetObject), "writeonly" (s3:PutObject) or
// "readwrite" (s3:*), each on every bucket and object. The result is
// shared and immutable.
func Predefined(name string) (*Policy, bool) {
	p, ok := predefined[name]
	return p, ok
}

// PredefinedDocument returns the JSON document of a built-in policy, for
// showing it ("stratactl policy show readonly").
func PredefinedDocument(name string) ([]byte, bool) {
	doc, ok := predefinedDocs[name]
	return []byte(doc), ok
}

// PredefinedNames returns the names of the built-in policies, sorted.
func PredefinedNames() []string {
	names := make([]string, 0, len(predefinedDocs))
	for n := range predefinedDocs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
