using Appliance.Hosting;
using Appliance.Network;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

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
                        Name = ApiEndpoints.SessionCookie,
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
