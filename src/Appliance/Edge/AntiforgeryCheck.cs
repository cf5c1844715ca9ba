using Microsoft.AspNetCore.Antiforgery;

namespace Appliance.Edge;

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
            ? RefusalPage.WriteAsync(context, new Edge.Refusal(StatusCodes.Status400BadRequest, Refusal))
            // UseAntiforgery validates form bodies only: any other body (JSON, none) would reach the page's handler unchecked.
            : HttpMethods.IsPost(context.Request.Method) && !context.Request.HasFormContentType
                && context.GetEndpoint()?.Metadata.GetMetadata<IAntiforgeryMetadata>() is { RequiresValidation: true }
                ? RefusalPage.WriteAsync(context, new Edge.Refusal(StatusCodes.Status415UnsupportedMediaType, NotAForm))
                : next(context);
}
