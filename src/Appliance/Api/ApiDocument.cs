using Appliance.Hosting;
using Appliance.Network;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Appliance.Edge;

namespace Appliance.Api;

/// <summary>
/// The OpenAPI document at <see cref="ApiEndpoints.OpenApiDocument"/>: every route under <see cref="ApiEndpoints.Prefix"/>,
/// with the JSON bodies the routes declare (<c>Accepts</c>/<c>Produces</c>, schemas from the source-generated JSON
/// contexts), and the two ways to authenticate (the session cookie from <c>POST session</c>, or an API token).
/// </summary>
internal static class ApiDocument
{
    /// <summary>Logging in needs no session or token (an empty security list overrides the document's).</summary>
    public static Task Anonymous(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.Security = [];
        return Task.CompletedTask;
    }

    /// <summary>The import route's multipart body (read by hand, so the generator cannot see it): files and an optional password.</summary>
    public static Task DescribeUpload(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "file" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["file"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Array,
                                Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                                Description = "Certificates, chains, keys, PKCS#7 or PKCS#12 files, DER or PEM: the format is found from the content.",
                            },
                            ["password"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.String,
                                Description = "The password of the PKCS#12 files or encrypted keys, if any.",
                            },
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }

    /// <summary>POST certificate-requests answers the request (a CSR) or, with selfSigned, the certificate.</summary>
    public static Task RequestOrCertificate(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.Responses ??= new OpenApiResponses();
        operation.Responses["201"] = new OpenApiResponse
        {
            Description = "The certificate request, or with selfSigned the self-signed certificate",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/json"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        OneOf = [new OpenApiSchemaReference(nameof(CertificateRequestDto), context.Document), new OpenApiSchemaReference(nameof(CertificateDto), context.Document)],
                    },
                },
            },
        };
        return Task.CompletedTask;
    }

    /// <summary>The audit route's query, parsed by the handler (so that a malformed value is refused in words).</summary>
    public static Task AuditQuery(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.Parameters =
        [
            new OpenApiParameter
            {
                Name = "limit", In = ParameterLocation.Query, Description = "Entries per page (default 100).",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = AuditEndpoints.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            },
            new OpenApiParameter
            {
                Name = "before", In = ParameterLocation.Query, Description = "The next value of the previous page.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" },
            },
        ];
        return Task.CompletedTask;
    }

    /// <summary>The problem document every refusal answers (RFC 9457), as <see cref="ApiEndpoints.Problem"/> writes it.</summary>
    private const string ProblemSchema = "ProblemDetails";

    /// <summary>
    /// Every refusal an operation can answer, as application/problem+json: 400 (malformed request), 401 (not signed
    /// in, or a wrong password at login), 403 (the one-time password must be changed first), 404 (a route or body
    /// naming something that is not there), 409 and 507 (a write that conflicts, or a full state partition), 413 and 415
    /// (a JSON body too large or not JSON), and what a route declares itself with <see cref="ApiRefusals"/>.
    /// </summary>
    private static Task DescribeRefusals(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var description = context.Description;
        var method = description.HttpMethod ?? "GET";
        var path = description.RelativePath ?? "";
        var login = method == "POST" && path.EndsWith("/session", StringComparison.Ordinal);
        var metadata = description.ActionDescriptor.EndpointMetadata;
        var hasJsonBody = metadata.OfType<IAcceptsMetadata>().Any(a => a.ContentTypes.Contains("application/json"));
        var statuses = new SortedSet<int> { 400, 401 };
        if (!login) statuses.Add(403);
        if (path.Contains('{') || hasJsonBody) statuses.Add(404);
        if (hasJsonBody) statuses.UnionWith([413, 415]);
        if (method != "GET") statuses.UnionWith([409, 507]);
        foreach (var declared in metadata.OfType<ApiRefusals>()) statuses.UnionWith(declared.Statuses);
        operation.Responses ??= new OpenApiResponses();
        foreach (var status in statuses)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses.ContainsKey(key)) continue;
            operation.Responses[key] = new OpenApiResponse
            {
                Description = Refusal.TitleOf(status),
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema, context.Document) },
                },
            };
        }
        return Task.CompletedTask;
    }

    public static void AddApiDocument(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(json =>
        {
            // Schemas come from the same source-generated contracts the handlers serialize with (no reflection).
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, AcmeApiJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(2, EmailApiJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(3, NetworkJson.Default);
        });
        services.AddOpenApi("v1", options =>
        {
            options.AddSchemaTransformer(ApiSchemaFacts.Apply);
            options.AddOperationTransformer(DescribeRefusals);
            options.ShouldInclude = description =>
                description.RelativePath is { } path && path.StartsWith(ApiEndpoints.Prefix[1..] + "/", StringComparison.Ordinal) && !path.Contains("{*", StringComparison.Ordinal);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "B Series appliance API",
                    Version = ApplianceVersion.Text,
                    Description = "Certificates, ACME, TLS selection, addresses, users, email and audit of one B Series appliance. "
                        + "Log in with POST session (a session cookie) or send an API token as a bearer token. Refusals answer "
                        + "application/problem+json with the reason in detail.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
                document.Components.Schemas[ProblemSchema] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "A refusal (RFC 9457): detail says what failed and what to do.",
                    Required = new HashSet<string> { "type", "title", "status", "detail" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "400", Maximum = "599" },
                        ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 },
                    },
                };
                document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
                {
                    ["token"] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.Http,
                        Scheme = "bearer",
                        Description = "An API token (Users page or POST tokens), sent as Authorization: Bearer TOKEN.",
                    },
                    ["session"] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.ApiKey,
                        In = ParameterLocation.Cookie,
                        Name = SessionCookie.Name,
                        Description = "The session cookie POST session sets.",
                    },
                };
                document.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("token", document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("session", document)] = [] },
                ];
                return Task.CompletedTask;
            });
        });
    }
}

/// <summary>Refusals a route answers beyond the ones every route of its kind does (see <c>ApiDocument.DescribeRefusals</c>).</summary>
internal sealed record ApiRefusals(params int[] Statuses);

internal static class ApiRefusalsExtensions
{
    /// <summary>Declares statuses this route answers with a problem document, e.g. 429 at login or 502 when a server it asks fails.</summary>
    public static TBuilder Refuses<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiRefusals(statuses));
}
