using Appliance.Accounts;
using Appliance.Audit;
using Appliance.Edge;
using Appliance.Ui.Slices;

namespace Appliance.Ui;

/// <summary>
/// Users: the administrators (add with an initial password to change at the first login, remove but never the last
/// one, reset to a one-time password shown once) and the API tokens (create, shown once; revoke).
/// </summary>
internal static class UserPages
{
    public const string Users = UiEndpoints.Root + "/users";

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/users", IResult (HttpContext context, PageFrame frame, AccountStore accounts) =>
            UsersView.Create(Model(context, frame, accounts, null)));

        ui.MapPost("/users/admins", async Task<IResult> (HttpContext context, PageFrame frame, AccountStore accounts) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var username = form["username"].ToString().Trim();
            try
            {
                var password = form["password"].ToString();
                if (password != form["confirmPassword"].ToString())
                    throw new AccountException(AccountFailure.Invalid, "The initial password and its confirmation differ; type the same password twice.");
                var added = await accounts.AddAdminAsync(username, password, context.RequestAborted);
                AuditTrail.Done(context, UserAudit.Added(added.Username));
                return frame.Redirect(context, Users, Notice.Ok(
                    $"The admin '{added.Username}' is added. Give them the initial password; they must choose their own at the first login."));
            }
            catch (AccountException e) when (RefusalMap.Of(e) is { } refusal)
            {
                return UiEndpoints.Render(UsersView.Create(Model(context, frame, accounts, Notice.Error(refusal.Detail)) with { NewAdmin = username }), refusal);
            }
        }).Audited("Add an admin");

        ui.MapPost("/users/admins/remove", async Task<IResult> (HttpContext context, PageFrame frame, AccountStore accounts) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var me = AuthenticationMiddleware.AccountOf(context);
            var username = form["username"].ToString();
            if (form["confirm"] != "yes")
            {
                // First the confirmation page (what removal ends); nothing changes until it is confirmed.
                AuditTrail.NotAChange(context);
                var target = accounts.ListAccounts().FirstOrDefault(a => a.Username == username);
                if (target is null)
                    return frame.Redirect(context, Users, Notice.Error($"There is no admin '{username}'; they may have been removed already."));
                return RemoveAdminView.Create(new RemoveAdminPage(frame.Build(context, "Users :: Remove Admin", "users", "account"),
                    target.Username, target.Sessions, target.Id == me.Id));
            }
            try
            {
                var removed = accounts.RemoveAdmin(me, username);
                AuditTrail.Done(context, UserAudit.Removed(removed.Username));
                return removed.Id == me.Id
                    ? frame.Redirect(context, UiEndpoints.Login, Notice.Ok($"Your account '{removed.Username}' is removed and you are signed out."))
                    : frame.Redirect(context, Users, Notice.Ok($"The admin '{removed.Username}' is removed; their sessions ended and their API tokens are revoked."));
            }
            catch (AccountException e) when (RefusalMap.Of(e) is { } refusal)
            {
                return Refused(context, frame, accounts, refusal);
            }
        }).Audited("Remove an admin");

        ui.MapPost("/users/admins/reset", async Task<IResult> (HttpContext context, PageFrame frame, AccountStore accounts) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            try
            {
                var (account, oneTime) = await accounts.ResetPasswordAsync(AuthenticationMiddleware.AccountOf(context), form["username"].ToString(), context.RequestAborted);
                AuditTrail.Done(context, UserAudit.Reset(account.Username));
                // The one-time password is shown once, in this response only (never in a redirect URL or a cookie).
                return UsersView.Create(Model(context, frame, accounts, Notice.Ok($"The password of '{account.Username}' is reset to a one-time password. Their sessions ended and their API tokens are revoked.")) with
                {
                    ResetPassword = new OneTimeSecret(account.Username, oneTime),
                });
            }
            catch (AccountException e) when (RefusalMap.Of(e) is { } refusal)
            {
                return Refused(context, frame, accounts, refusal);
            }
        }).Audited("Reset an admin's password");

        ui.MapPost("/users/tokens", async Task<IResult> (HttpContext context, PageFrame frame, AccountStore accounts) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            try
            {
                var (token, secret) = accounts.CreateToken(AuthenticationMiddleware.AccountOf(context), form["name"].ToString());
                AuditTrail.Done(context, TokenAudit.Created(token.Name));
                // The secret is shown once, in this response only (never in a redirect URL or a cookie).
                return UsersView.Create(Model(context, frame, accounts, Notice.Ok($"The API token '{token.Name}' is created. Copy it now: it is not shown again.")) with
                {
                    NewToken = new OneTimeSecret(token.Name, secret),
                });
            }
            catch (AccountException e) when (RefusalMap.Of(e) is { } refusal)
            {
                return Refused(context, frame, accounts, refusal);
            }
        }).Audited("Create an API token");

        ui.MapPost("/users/tokens/{id}/revoke", IResult (string id, HttpContext context, PageFrame frame, AccountStore accounts) =>
        {
            var name = accounts.ListTokens().FirstOrDefault(t => t.Id == id)?.Name;
            if (name is null || !accounts.RevokeToken(id))
                return frame.Redirect(context, Users, Notice.Error($"There is no API token with id '{id}'; it may have been revoked already."));
            AuditTrail.Done(context, TokenAudit.Revoked(name));
            return frame.Redirect(context, Users, Notice.Ok($"The API token '{name}' is revoked; scripts using it are refused from now on."));
        }).Audited("Revoke an API token");
    }

    /// <summary>The Users page again with the refusal in words; nothing was changed.</summary>
    private static IResult Refused(HttpContext context, PageFrame frame, AccountStore accounts, Refusal refusal) =>
        UiEndpoints.Render(UsersView.Create(Model(context, frame, accounts, Notice.Error(refusal.Detail))), refusal);

    private static UsersPage Model(HttpContext context, PageFrame frame, AccountStore accounts, Notice? notice)
    {
        var me = AuthenticationMiddleware.AccountOf(context);
        return new UsersPage(frame.Build(context, "Users", "users", "account", notice), me.Username,
            accounts.ListAccounts().Select(a => new AdminRow(a.Username, a.MustChangePassword, a.CreatedAt, a.Sessions, a.Id == me.Id)).ToList(),
            accounts.ListTokens().Select(t => new TokenRow(t.Id, t.Name, t.CreatedAt, t.LastUsedAt)).ToList(), null, null, "");
    }
}
