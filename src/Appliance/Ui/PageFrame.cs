using System.Text;
using System.Text.Encodings.Web;
using Appliance.Edge;
using Appliance.Certificates.Vault;
using Appliance.Hosting;
using Appliance.Platform;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Html;

namespace Appliance.Ui;

/// <summary>
/// Builds the layout model of every page (anti-forgery token, signed-in admin, key protection banner) and carries
/// the one-time notice across a post-redirect-get in a short-lived cookie protected by data protection.
/// </summary>
internal sealed class PageFrame(IAntiforgery antiforgery, IDataProtectionProvider dataProtection, SystemFacts facts, IKeyVault vault)
{
    private const string NoticeCookie = "__Secure-appliance_notice"; // __Secure- like the session cookie (Edge/SessionCookie.cs)
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Appliance.Ui.Notice");

    public LayoutModel Build(HttpContext context, string title, string section, string? page, Notice? notice = null)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        var field = new HtmlString($"<input type=\"hidden\" name=\"{HtmlEncoder.Default.Encode(tokens.FormFieldName)}\" value=\"{HtmlEncoder.Default.Encode(tokens.RequestToken ?? "")}\">");
        if (notice is { Kind: "error" }) Audit.AuditTrail.Refused(context, notice.Text); // a form re-rendered with its refusal
        notice ??= TakeNotice(context);
        return new LayoutModel(title, section, page, AuthenticationMiddleware.TryAccountOf(context)?.Username, facts.HostName,
            vault.Protection == "software", ApplianceVersion.Text, field, notice);
    }

    /// <summary>Post-redirect-get: 303 to <paramref name="location"/>, the notice shown once there.</summary>
    public IResult Redirect(HttpContext context, string location, Notice? notice = null)
    {
        if (notice is { Kind: "error" }) Audit.AuditTrail.Refused(context, string.Join(" ", notice.Details.Prepend(notice.Text)));
        if (notice is not null)
        {
            var text = new StringBuilder().Append(notice.Kind).Append('\n').Append(notice.Text);
            foreach (var detail in notice.Details.Take(20)) text.Append('\n').Append(detail);
            var value = _protector.Protect(text.Length > 2500 ? text.ToString(0, 2500) : text.ToString());
            context.Response.Cookies.Append(NoticeCookie, value, CookieOptions(context));
        }
        context.Response.Headers.Location = location;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private Notice? TakeNotice(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(NoticeCookie, out var value)) return null;
        context.Response.Cookies.Delete(NoticeCookie, CookieOptions(context));
        try
        {
            var lines = _protector.Unprotect(value).Split('\n');
            return lines.Length >= 2 ? new Notice(lines[0], lines[1], lines[2..]) : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null; // forged or from before a key rotation: ignore
        }
    }

    private static CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        Secure = true, // /appliance is served over HTTPS only
        SameSite = SameSiteMode.Strict,
        Path = "/appliance",
    };
}
