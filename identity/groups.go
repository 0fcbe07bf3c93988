package identity

import (
	"context"
	"fmt"
	"regexp"
	"slices"
)

// groupName is what a group may be called: short, no spaces, safe in a token.
var groupName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// AddToGroup puts a user in a group (an administrator's action, like
// Cognito's AdminAddUserToGroup). Groups travel in the user's next tokens.
func (s *Service) AddToGroup(ctx context.Context, email, group string) error {
	return s.changeGroups(ctx, email, group, func(groups []string) []string {
		if slices.Contains(groups, group) {
			return groups
		}
		return append(groups, group)
	})
}

// RemoveFromGroup takes a user out of a group.
func (s *Service) RemoveFromGroup(ctx context.Context, email, group string) error {
	return s.changeGroups(ctx, email, group, func(groups []string) []string {
		return slices.DeleteFunc(groups, func(g string) bool { return g == group })
	})
}

func (s *Service) changeGroups(ctx context.Context, email, group string, change func([]string) []string) error {
	if !groupName.MatchString(group) {
		return fieldError("group", "Use 1 to 64 letters, digits, '.', '_' or '-'.")
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		u, err := tx.UserByEmail(ctx, NormalizeEmail(email))
		if err != nil {
			return err
		}
		u.Groups = change(slices.Clone(u.Groups))
		slices.Sort(u.Groups)
		u.UpdatedAt = s.now()
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		return fmt.Errorf("identity: change groups: %w", err)
	}
	return nil
}
