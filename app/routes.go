package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pinhole/pinhole/static"
)

// routes is the one place that lists every URL Pinhole answers. Read it first
// to find the handler behind any page or API call.
func (s *server) routes(e *echo.Echo) {
	// Operations.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)

	// Assets, embedded in the binary.
	assets := e.Group("/static", cacheAssets)
	assets.StaticFS("/", static.FS)

	// OpenID Connect discovery: how outside clients verify our tokens.
	e.GET("/.well-known/openid-configuration", s.handleOpenIDConfiguration)
	e.GET("/.well-known/jwks.json", s.handleJWKS)
	// OpenID Connect UserInfo, for outside clients holding an access token.
	// The OPTIONS route exists so that the CORS middleware, which answers
	// preflights itself, runs for them.
	userInfo := e.Group(userInfoPath, userInfoCORS, noStore)
	userInfo.GET("", s.handleUserInfo, s.requireBearer)
	userInfo.POST("", s.handleUserInfo, s.requireBearer)
	userInfo.OPTIONS("", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	// The user pool's JSON API (SPEC §2).
	api := e.Group("/api", sameOrigin, noStore)
	auth := api.Group("/auth")
	auth.POST("/signup", s.handleSignUp)
	auth.POST("/confirm", s.handleConfirm)
	auth.POST("/confirm/resend", s.handleResend)
	auth.POST("/signin", s.handleSignIn)
	auth.POST("/refresh", s.handleRefresh)
	auth.POST("/signout", s.handleSignOut)
	auth.POST("/signout/global", s.handleGlobalSignOut, s.requireAuth)
	auth.POST("/password/forgot", s.handleForgot)
	auth.POST("/password/reset", s.handleReset)
	auth.POST("/password/change", s.handleChangePassword, s.requireAuth)

	me := api.Group("/me", s.requireAuth)
	me.GET("", s.handleGetMe)
	me.PATCH("", s.handlePatchMe)
	me.POST("/email/confirm", s.handleConfirmEmailChange)
	me.GET("/sessions", s.handleListSessions)
	me.DELETE("/sessions/:id", s.handleRevokeSession)
	me.GET("/activity", s.handleActivity)

	// The identity pool (SPEC §3) and photos (SPEC §4). Photo bytes never
	// come here: the browser PUTs them to MinIO with the credentials, then
	// registers them.
	api.POST("/credentials", s.handleCredentials, s.requireAuth, s.needStorage)
	photos := api.Group("/photos", s.requireAuth, s.needStorage)
	photos.POST("", s.handleRegisterPhoto)
	photos.GET("", s.handleListPhotos)
	photos.GET("/:id", s.handleGetPhoto)
	photos.PATCH("/:id", s.handleUpdatePhoto)
	photos.DELETE("/:id", s.handleDeletePhoto)

	// Pages. Every form posts back with a CSRF token (see csrf in
	// pages_auth.go), and no page is cached: each carries a token or personal
	// data. optionalAuth lets the header show who is signed in.
	pages := e.Group("", noStore, s.csrf())
	pages.GET("/", s.handleHome, s.optionalAuth)
	pages.GET("/signup", s.handleSignUpPage, s.optionalAuth)
	pages.POST("/signup", s.handleSignUpForm)
	pages.GET("/confirm", s.handleConfirmPage, s.optionalAuth)
	pages.POST("/confirm", s.handleConfirmForm)
	pages.POST("/confirm/resend", s.handleResendForm)
	pages.GET("/auth/confirm", s.handleConfirmLink, s.optionalAuth)
	pages.GET("/signin", s.handleSignInPage, s.optionalAuth)
	pages.POST("/signin", s.handleSignInForm)
	pages.POST("/signout", s.handleSignOutForm, s.requirePageAuth)
	pages.GET("/forgot", s.handleForgotPage, s.optionalAuth)
	pages.POST("/forgot", s.handleForgotForm)
	pages.GET("/reset", s.handleResetPage, s.optionalAuth)
	pages.POST("/reset", s.handleResetForm)
	pages.GET("/account", s.handleAccountPage, s.requirePageAuth)
	pages.POST("/account/profile", s.handleProfileForm, s.requirePageAuth)
	pages.POST("/account/password", s.handleChangePasswordForm, s.requirePageAuth)
	pages.POST("/account/email", s.handleChangeEmailForm, s.requirePageAuth)
	pages.POST("/account/email/confirm", s.handleConfirmEmailForm, s.requirePageAuth)
	pages.POST("/account/email/cancel", s.handleCancelEmailForm, s.requirePageAuth)
	pages.POST("/account/sessions/:id/revoke", s.handleRevokeSessionForm, s.requirePageAuth)
	pages.POST("/account/signout-everywhere", s.handleGlobalSignOutForm, s.requirePageAuth)
	gallery := pages.Group("/photos", s.requirePageAuth, s.needStorage)
	gallery.GET("", s.handlePhotosPage)
	gallery.GET("/upload", s.handleUploadPage)
	gallery.GET("/:id", s.handlePhotoPage)
	gallery.POST("/:id/caption", s.handleCaptionForm)
	gallery.POST("/:id/delete", s.handleDeletePhotoForm)

	// Anything else under /api is a JSON 404, everything else an HTML one; the
	// error handler tells them apart by path.
	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// cacheAssets lets browsers keep assets briefly. They are not fingerprinted, so
// the lifetime stays short enough that a deploy shows up within minutes.
func cacheAssets(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return next(c)
	}
}

// noStore keeps API answers (tokens, profiles) out of every cache.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
