using System.Text.Json;
using System.Text.Json.Serialization;

namespace Appliance.Edge;

/// <summary>An RFC 9457 problem document, as every API refusal answers (the OpenAPI document's "ProblemDetails").</summary>
internal sealed record ProblemDto(string Type, string Title, int Status, string Detail);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ProblemDto))]
internal sealed partial class ProblemJson : JsonSerializerContext;

/// <summary>
/// A refusal written as application/problem+json with its status, title and Retry-After; its detail also goes to
/// the audit log when the request changes state.
/// </summary>
internal sealed class Problem(Refusal refusal) : IResult
{
    public static IResult Of(int status, string detail) => new Problem(new Refusal(status, detail));

    public Task ExecuteAsync(HttpContext context)
    {
        Audit.AuditTrail.Refused(context, refusal.Detail);
        refusal.AddRetryAfter(context.Response);
        return Results.Json(new ProblemDto("about:blank", refusal.Title, refusal.Status, refusal.Detail), ProblemJson.Default.ProblemDto,
            contentType: "application/problem+json", statusCode: refusal.Status).ExecuteAsync(context);
    }
}
