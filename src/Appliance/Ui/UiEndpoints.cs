using System.Reflection;
using Appliance.Accounts;
using Appliance.Audit;
using Appliance.Certificates.Store;
using Appliance.Edge;
using Appliance.Hosting;
using Appliance.Platform;
using Appliance.Ui.Slices;
using Microsoft.AspNetCore.Antiforgery;

namespace Appliance.Ui;

/// <summary>
/// The /appliance web interface: server-rendered pages (RazorSlices), plain forms, post-redirect-get.
/// Every page needs an admin session (AuthenticationMiddleware) except the login page and the stylesheet;
/// every POST carries an anti-forgery token (checked by UseAntiforgery and <see cref="Edge.AntiforgeryCheck"/>).
/// </summary>
internal static class UiEndpoints
{
    public const string Root = EdgePaths.Root;
    public const string Login = EdgePaths.Login;
    public const string Logout = EdgePaths.Logout;
    public const string Password = EdgePaths.Password;
    public const string Stylesheet = EdgePaths.Stylesheet;
    public const string Status = EdgePaths.Status;
    public const string Users = UserPages.Users;

    private static readonly Lazy<byte[]> Css = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Appliance.Ui.appliance.css")!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    });

    public static void Map(WebApplication app)
    {
        var ui = app.MapGroup(Root).WithMetadata(new RequireAntiforgeryTokenAttribute());

        ui.MapGet("/static/appliance.css", IResult (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Bytes(Css.Value, "text/css; charset=utf-8");
        });

        ui.MapGet("/", IResult () => Results.Redirect(Status));

        ui.MapGet("/login", IResult (HttpContext context, PageFrame frame, string? returnUrl) =>
            AuthenticationMiddleware.TryAccountOf(context) is not null
                ? Results.Redirect(Status)
                : LoginView.Create(new LoginPage(frame.Build(context, "Log in", "login", null), "", SafeReturnUrl(returnUrl))));

        ui.MapPost("/login", async Task<IResult> (HttpContext context, PageFrame frame, AccountStore accounts) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var username = form["username"].ToString().Trim();
            var password = form["password"].ToString();
            var returnUrl = SafeReturnUrl(form["returnUrl"]);
            try
            {
                if (username.Length == 0 || password.Length == 0)
                    throw new AccountException(AccountFailure.Invalid, "Enter both the username and the password.");
                var account = await SessionLogin.LogInAsync(context, accounts, username, password);
                return frame.Redirect(context, account.MustChangePassword ? Password : returnUrl);
            }
            catch (AccountException e) when (RefusalMap.Of(e) is { } refusal)
            {
                // An over-long username is not shown again.
                var shown = System.Text.Encoding.UTF8.GetByteCount(username) <= AccountStore.MaxCredentialBytes ? username : "";
                return Render(LoginView.Create(new LoginPage(frame.Build(context, "Log in", "login", null, Notice.Error(refusal.Detail)), shown, returnUrl)), refusal);
            }
        }).Audited("Log in");

        ui.MapPost("/logout", IResult (HttpContext context, PageFrame frame, AccountStore accounts) =>
        {
            SessionCookie.SignOut(context, accounts);
            AuditTrail.Done(context, "Signed out");
            return frame.Redirect(context, Login, Notice.Ok("You are signed out."));
        }).Audited("Sign out");

        ui.MapGet("/password", IResult (HttpContext context, PageFrame frame) =>
        {
            var forced = AuthenticationMiddleware.AccountOf(context).MustChangePassword;
            return PasswordView.Create(new PasswordPage(frame.Build(context, "Change password", "users", "account"), forced));
        });

        ui.MapPost("/password", async Task<IResult> (HttpContext context, PageFrame frame, AccountStore accounts) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var account = AuthenticationMiddleware.AccountOf(context);
            try
            {
                var newPassword = form["newPassword"].ToString();
                if (newPassword != form["confirmPassword"].ToString())
                    throw new AccountException(AccountFailure.Invalid, "The new password and its confirmation differ; type the same new password twice.");
                await accounts.ChangePasswordAsync(account, AuthenticationMiddleware.SessionSecretOf(context), form["currentPassword"].ToString(), newPassword, context.RequestAborted);
                AuditTrail.Done(context, "Changed their own password");
                return frame.Redirect(context, account.MustChangePassword ? Status : Users, Notice.Ok("Your password is changed. Your other sessions are signed out."));
            }
            catch (AccountException e) when (RefusalMap.Of(e) is { } refusal)
            {
                return Render(PasswordView.Create(new PasswordPage(frame.Build(context, "Change password", "users", "account", Notice.Error(refusal.Detail)), account.MustChangePassword)), refusal);
            }
        }).Audited("Change their own password");

        UserPages.Map(ui);

        ui.MapGet("/status", IResult (HttpContext context, PageFrame frame, SystemFacts facts, KeyVaultState keyVault, CertificateStore store, StatePartition partition, TimeProvider time) =>
            StatusView.Create(StatusPages.Build(frame.Build(context, "Status :: Basics", "status", "basics"), facts, keyVault, store, partition.Usage(), time.GetUtcNow())));

        NetworkingPages.Map(ui);

        EmailPages.Map(ui);
        AuditPages.Map(ui);
        CertificatePages.Map(ui);
        CertificateDetailPages.Map(ui);
        AcmePages.Map(ui);

        ui.MapFallback(IResult (HttpContext context, PageFrame frame) =>
            Render(MessageView.Create(new MessagePage(frame.Build(context, "Not found", "", null), "Page not found",
                $"There is no page {context.Request.Path} on this appliance.", Status, "Go to Status > Basics")), 404));
    }

    /// <summary>A local /appliance path to return to after login; anything else goes to Status.</summary>
    public static string SafeReturnUrl(string? url) =>
        url is not null && url.StartsWith(Root + "/", StringComparison.Ordinal) && !url.StartsWith(Login, StringComparison.Ordinal)
        && !url.Contains("//", StringComparison.Ordinal) && !url.Contains('\\') ? url : Status;

    /// <summary>A page rendered with a status code (a refused form keeps its input and shows why).</summary>
    public static IResult Render(RazorSlices.RazorSlice page, int status)
    {
        page.StatusCode = status;
        return page;
    }

    /// <summary>A page showing a refusal (<see cref="RefusalMap"/>): with its status, and Retry-After when it has one.</summary>
    public static IResult Render(RazorSlices.RazorSlice page, Refusal refusal) => new RefusedPage(Render(page, refusal.Status), refusal);

    private sealed class RefusedPage(IResult page, Refusal refusal) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            refusal.AddRetryAfter(context.Response);
            return page.ExecuteAsync(context);
        }
    }
}
