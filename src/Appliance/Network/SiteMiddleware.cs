using System.Net;
using System.Text.Encodings.Web;

namespace Appliance.Network;

/// <summary>
/// HTTPS requests outside /appliance are the site: a plain landing page naming the site's host name, or, with an
/// upstream configured (<c>--site-upstream http://127.0.0.1:PORT</c> or <c>unix:/path/to.sock</c>), the decrypted
/// traffic forwarded there (<see cref="SiteForwarder"/>). /appliance is never forwarded. The per-address
/// switches apply: where the site (or /appliance) is off, that part answers 404.
/// </summary>
internal sealed class SiteMiddleware(RequestDelegate next, AddressAccess access, SiteForwarder forwarder)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var local = context.Connection.LocalIpAddress ?? IPAddress.None;
        if (context.Request.Path.StartsWithSegments("/appliance"))
        {
            if (!access.ApplianceAllowed(local))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            // Requests run inline on the socket thread (ApplianceServer): /appliance work (SQLite, password
            // hashing, imports) moves to the thread pool so it never holds up other connections' I/O.
            await Task.Yield();
            await next(context);
            return;
        }
        if (!access.SiteAllowed(local))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (!forwarder.HasUpstream)
        {
            await Landing(context);
            return;
        }
        await forwarder.ForwardAsync(context);
    }

    private static async Task Landing(HttpContext context)
    {
        var host = HtmlEncoder.Default.Encode(context.Request.Host.Host);
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        // One write with a length: headers and body leave in one TLS record, not chunked with a trailer write.
        var body = System.Text.Encoding.UTF8.GetBytes($"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{host}</title>
            <style>body{"{"}font:16px/1.5 system-ui,sans-serif;margin:4rem auto;max-width:40rem;color:#1d2433{"}"}</style></head>
            <body><h1>{host}</h1><p>This site is served securely by a B Series appliance.</p></body></html>
            """);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }
}
