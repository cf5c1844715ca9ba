using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;

namespace Appliance.Ui;

/// <summary>
/// Answers 400 when UseAntiforgery found the form's anti-forgery token missing or wrong. Without it the endpoint
/// would fail later when binding the form (500 under NativeAOT), after nothing had been changed anyway.
/// </summary>
internal sealed class AntiforgeryCheck(RequestDelegate next)
{
    public const string Refusal = "The form was refused because its anti-forgery token is missing or invalid; nothing was changed. Reload the page and submit the form again.";

    public const string NotAForm = "The request was refused because it is not a form (send application/x-www-form-urlencoded or multipart/form-data, as the page does); nothing was changed.";

    public Task InvokeAsync(HttpContext context) =>
        context.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false }
            ? WritePlainPage(context, StatusCodes.Status400BadRequest, Refusal)
            // UseAntiforgery validates form bodies only: any other body (JSON, none) would reach the page's handler unchecked.
            : HttpMethods.IsPost(context.Request.Method) && !context.Request.HasFormContentType
                && context.GetEndpoint()?.Metadata.GetMetadata<IAntiforgeryMetadata>() is { RequiresValidation: true }
                ? WritePlainPage(context, StatusCodes.Status415UnsupportedMediaType, NotAForm)
                : next(context);

    /// <summary>A minimal HTML page for refusals outside the page handlers (no layout: no session may be known).</summary>
    public static Task WritePlainPage(HttpContext context, int status, string text)
    {
        Audit.AuditTrail.Refused(context, text);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        var encoded = HtmlEncoder.Default.Encode(text);
        return context.Response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Request refused</title><link rel="stylesheet" href="/appliance/static/appliance.css"></head>
            <body><header class="top"><div class="brand">B Series Appliance</div></header>
            <main><h1>Request refused</h1><div class="notice error" role="alert">{encoded}</div><p><a href="/appliance/status">Back to /appliance</a></p></main></body></html>
            """);
    }
}
