using Appliance.Accounts;
using Appliance.Audit;
using Appliance.Edge;

namespace Appliance.Api;

/// <summary>
/// The admins under /appliance/api/v1/users: list, add (with an initial password to change at the first login),
/// remove (never the last admin), and reset a password to a one-time password answered once.
/// </summary>
internal static class UserEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/users", (AccountStore accounts) =>
            Results.Json(accounts.ListAccounts().Select(UserDto.From).ToList(), ApiJson.Default.ListUserDto))
            .Produces<List<UserDto>>().WithSummary("List the admins");

        api.MapPost("/users", async (HttpContext context, AccountStore accounts) =>
        {
            var body = await ApiEndpoints.ReadJson(context, ApiJson.Default.UserRequest);
            var added = await accounts.AddAdminAsync(body.Username ?? "", body.Password ?? "", context.RequestAborted);
            AuditTrail.Done(context, UserAudit.Added(added.Username));
            return Results.Json(UserDto.From(added), ApiJson.Default.UserDto, statusCode: 201);
        }).Accepts<UserRequest>("application/json").Produces<UserDto>(201).WithSummary("Add an admin (the initial password is changed at the first login)").Audited("Add an admin");

        api.MapDelete("/users/{username}", (string username, HttpContext context, AccountStore accounts) =>
        {
            var removed = accounts.RemoveAdmin(AuthenticationMiddleware.AccountOf(context), username);
            AuditTrail.Done(context, UserAudit.Removed(removed.Username));
            return Results.NoContent();
        }).Produces(204).WithSummary("Remove an admin (ends their sessions, revokes their tokens)").Audited("Remove an admin");

        api.MapPost("/users/{username}/password-reset", async (string username, HttpContext context, AccountStore accounts) =>
        {
            var (account, oneTime) = await accounts.ResetPasswordAsync(AuthenticationMiddleware.AccountOf(context), username, context.RequestAborted);
            AuditTrail.Done(context, UserAudit.Reset(account.Username));
            return Results.Json(new PasswordResetDto(account.Username, oneTime, true), ApiJson.Default.PasswordResetDto);
        }).Produces<PasswordResetDto>().WithSummary("Reset an admin's password to a one-time password (ends their sessions, revokes their API tokens)").Audited("Reset an admin's password");
    }
}
