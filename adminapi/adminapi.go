package adminapi

// PathPrefix is the URL prefix of every admin API route.
const PathPrefix = "/strata/admin/v1/"
