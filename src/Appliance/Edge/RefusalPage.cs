using System.Text.Encodings.Web;

namespace Appliance.Edge;

/// <summary>A minimal HTML page for a refusal outside the page handlers (no layout: no session may be known).</summary>
internal static class RefusalPage
{
    public static Task WriteAsync(HttpContext context, Refusal refusal)
    {
        Audit.AuditTrail.Refused(context, refusal.Detail);
        refusal.ApplyTo(context.Response);
        context.Response.ContentType = "text/html; charset=utf-8";
        var encoded = HtmlEncoder.Default.Encode(refusal.Detail);
        return context.Response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Request refused</title><link rel="stylesheet" href="{EdgePaths.Stylesheet}"></head>
            <body><header class="top"><div class="brand">B Series Appliance</div></header>
            <main><h1>Request refused</h1><div class="notice error" role="alert">{encoded}</div><p><a href="{EdgePaths.Status}">Back to /appliance</a></p></main></body></html>
            """);
    }
}
