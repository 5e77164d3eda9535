package query

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// Profile is what a user record holds besides its id.
type Profile struct {
	FirstName      *string `json:"first_name"`
	LastName       *string `json:"last_name"`
	Email          *string `json:"email"`
	ExternalUserID *string `json:"external_user_id"`
}

// UserRead is Open Wearables' UserRead.
type UserRead struct {
	ID                  string     `json:"id"`
	CreatedAt           time.Time  `json:"created_at"`
	FirstName           *string    `json:"first_name"`
	LastName            *string    `json:"last_name"`
	Email               *string    `json:"email"`
	ExternalUserID      *string    `json:"external_user_id"`
	LastSyncedAt        *time.Time `json:"last_synced_at"`
	LastSyncedProvider  *string    `json:"last_synced_provider"`
	HasActiveConnection bool       `json:"has_active_connection"`
}

// UserPage is Open Wearables' page-style answer of GET /users.
type UserPage struct {
	Items   []UserRead `json:"items"`
	Total   int        `json:"total"`
	Page    int        `json:"page"`
	Limit   int        `json:"limit"`
	Pages   int        `json:"pages"`
	HasNext bool       `json:"has_next"`
	HasPrev bool       `json:"has_prev"`
}

// parseProfile reads a stored profile; an empty one has no fields.
func parseProfile(b []byte) Profile {
	var p Profile
	if len(b) > 0 {
		_ = json.Unmarshal(b, &p)
	}
	return p
}

// User answers GET /users/{id}: ErrNotFound for a user that does not
// exist.
func (q *Service) User(id string) (UserRead, error) {
	u, ok, err := q.lookup(id)
	if err != nil {
		return UserRead{}, err
	}
	if !ok {
		return UserRead{}, ErrNotFound
	}
	return q.userView(u)
}

// userView builds the UserRead of a stored user, with its sync fields
// computed from its connections (Open Wearables leaves them empty on the
// single-user route; we fill them everywhere).
func (q *Service) userView(u *pebblestore.User) (UserRead, error) {
	p := parseProfile(u.Profile)
	r := UserRead{ID: u.ID, CreatedAt: u.Created, FirstName: p.FirstName, LastName: p.LastName, Email: p.Email,
		ExternalUserID: p.ExternalUserID}
	conns, err := q.store.Connections(u.IID)
	if err != nil {
		return r, err
	}
	for _, c := range conns {
		if c.Status == "active" {
			r.HasActiveConnection = true
		}
		if c.LastSyncedAt != nil && (r.LastSyncedAt == nil || c.LastSyncedAt.After(*r.LastSyncedAt)) {
			t, prov := *c.LastSyncedAt, c.Provider
			r.LastSyncedAt, r.LastSyncedProvider = &t, &prov
		}
	}
	return r, nil
}

// UserParams are the parameters of GET /users.
type UserParams struct {
	Page, Limit    int
	SortBy         string // created_at, email, first_name, last_name, last_synced_at
	SortOrder      string // asc or desc
	Search         string // case-insensitive substring of email, first or last name
	Email          string
	ExternalUserID string
}

// SortKeys are the accepted sort_by values.
var SortKeys = []string{"created_at", "email", "first_name", "last_name", "last_synced_at"}

// Users answers GET /users.
func (q *Service) Users(p UserParams) (*UserPage, error) {
	var all []UserRead
	search := strings.ToLower(p.Search)
	err := q.store.Users(func(u *pebblestore.User) bool {
		r, err := q.userView(u)
		if err != nil {
			return true
		}
		if p.Email != "" && (r.Email == nil || !strings.EqualFold(*r.Email, p.Email)) {
			return true
		}
		if p.ExternalUserID != "" && (r.ExternalUserID == nil || *r.ExternalUserID != p.ExternalUserID) {
			return true
		}
		if search != "" && !containsFold(search, r.Email, r.FirstName, r.LastName) {
			return true
		}
		all = append(all, r)
		return true
	})
	if err != nil {
		return nil, err
	}
	desc := p.SortOrder != "asc"
	sort.SliceStable(all, func(i, j int) bool {
		c := compareUsers(&all[i], &all[j], p.SortBy)
		if c == 0 {
			c = strings.Compare(all[i].ID, all[j].ID)
		}
		if desc {
			return c > 0
		}
		return c < 0
	})
	page := &UserPage{Items: []UserRead{}, Total: len(all), Page: p.Page, Limit: p.Limit}
	page.Pages = (len(all) + p.Limit - 1) / p.Limit
	from := (p.Page - 1) * p.Limit
	if from < len(all) {
		page.Items = all[from:min(from+p.Limit, len(all))]
	}
	page.HasNext = p.Page < page.Pages
	page.HasPrev = p.Page > 1
	return page, nil
}

func containsFold(needle string, fields ...*string) bool {
	for _, f := range fields {
		if f != nil && strings.Contains(strings.ToLower(*f), needle) {
			return true
		}
	}
	return false
}

// compareUsers orders by a sort key; missing values sort first.
func compareUsers(a, b *UserRead, by string) int {
	str := func(x, y *string) int {
		switch {
		case x == nil && y == nil:
			return 0
		case x == nil:
			return -1
		case y == nil:
			return 1
		}
		return strings.Compare(strings.ToLower(*x), strings.ToLower(*y))
	}
	switch by {
	case "email":
		return str(a.Email, b.Email)
	case "first_name":
		return str(a.FirstName, b.FirstName)
	case "last_name":
		return str(a.LastName, b.LastName)
	case "last_synced_at":
		switch {
		case a.LastSyncedAt == nil && b.LastSyncedAt == nil:
			return 0
		case a.LastSyncedAt == nil:
			return -1
		case b.LastSyncedAt == nil:
			return 1
		}
		return a.LastSyncedAt.Compare(*b.LastSyncedAt)
	default:
		return a.CreatedAt.Compare(b.CreatedAt)
	}
}

// ConnectionView is Open Wearables' connection shape for an SDK provider.
type ConnectionView struct {
	ID               string     `json:"id"`
	UserID           string     `json:"user_id"`
	Provider         string     `json:"provider"`
	ProviderUserID   *string    `json:"provider_user_id"`
	ProviderUsername *string    `json:"provider_username"`
	Scope            *string    `json:"scope"`
	Status           string     `json:"status"`
	LastSyncedAt     *time.Time `json:"last_synced_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	IconURL          string     `json:"icon_url"`
	LinkedUserIDs    []string   `json:"linked_user_ids"`
}

// Connections lists a user's connections, one per provider that synced;
// none for a user that does not exist, as in Open Wearables.
func (q *Service) Connections(userID string) ([]ConnectionView, error) {
	u, ok, err := q.lookup(userID)
	if err != nil || !ok {
		return []ConnectionView{}, err
	}
	conns, err := q.store.Connections(u.IID)
	if err != nil {
		return nil, err
	}
	out := make([]ConnectionView, 0, len(conns))
	for _, c := range conns {
		out = append(out, ConnectionView{
			ID: userID + ":" + c.Provider, UserID: userID, Provider: c.Provider, Status: c.Status,
			LastSyncedAt: c.LastSyncedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
			IconURL: "/static/provider-icons/" + c.Provider + ".svg", LinkedUserIDs: []string{},
		})
	}
	return out, nil
}

// DataSourceView is Open Wearables' data source shape.
type DataSourceView struct {
	ID                 string  `json:"id"`
	UserID             string  `json:"user_id"`
	Provider           string  `json:"provider"`
	UserConnectionID   *string `json:"user_connection_id"`
	DeviceModel        *string `json:"device_model"`
	SoftwareVersion    *string `json:"software_version"`
	Source             *string `json:"source"`
	DeviceType         *string `json:"device_type"`
	OriginalSourceName *string `json:"original_source_name"`
	DisplayName        string  `json:"display_name"`
}

// DataSourceList is the answer of GET /users/{id}/data-sources.
type DataSourceList struct {
	Items []DataSourceView `json:"items"`
	Total int              `json:"total"`
}

// DataSources lists a user's data sources ordered by provider and device
// model; none for a user that does not exist, as in Open Wearables.
func (q *Service) DataSources(userID string) (*DataSourceList, error) {
	u, ok, err := q.lookup(userID)
	if err != nil || !ok {
		return &DataSourceList{Items: []DataSourceView{}}, err
	}
	recs, err := q.store.UserSources(u.IID)
	if err != nil {
		return nil, err
	}
	out := make([]DataSourceView, 0, len(recs))
	for _, r := range recs {
		conn := userID + ":" + r.Provider
		dt := r.DeviceType
		if dt == "" {
			dt = health.InferDeviceType(r.DeviceModel)
		}
		v := DataSourceView{
			ID: hexID(uint64(r.ID)), UserID: userID, Provider: r.Provider, UserConnectionID: &conn,
			DeviceModel: strPtr(r.DeviceModel), SoftwareVersion: strPtr(r.SoftwareVersion), Source: strPtr(r.SourceName),
			DeviceType: strPtr(dt), OriginalSourceName: strPtr(r.SourceName),
		}
		label := r.DeviceModel
		if label == "" {
			label = r.SourceName
		}
		v.DisplayName = "Unknown Source"
		if label != "" {
			v.DisplayName = strings.ToUpper(r.Provider[:1]) + r.Provider[1:] + " - " + label
		}
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		a, b := "", ""
		if out[i].DeviceModel != nil {
			a = *out[i].DeviceModel
		}
		if out[j].DeviceModel != nil {
			b = *out[j].DeviceModel
		}
		return a < b
	})
	return &DataSourceList{Items: out, Total: len(out)}, nil
}
