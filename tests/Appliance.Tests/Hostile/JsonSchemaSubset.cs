using System.Text.Json;
using System.Text.RegularExpressions;

namespace Appliance.Tests.Hostile;

/// <summary>
/// A JSON Schema checker for the subset the appliance's OpenAPI document uses: $ref (to components/schemas), oneOf,
/// type (a name or a list, "null" for nullable), enum, properties, required, items, minLength/maxLength, minItems,
/// minimum/maximum, pattern, format date-time. Answers the first mismatch with its JSON path, or null.
/// </summary>
public sealed class JsonSchemaSubset(JsonElement document)
{
    private readonly JsonElement _schemas = document.GetProperty("components").GetProperty("schemas");

    public JsonElement Resolve(JsonElement schema)
    {
        while (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!;
            const string Prefix = "#/components/schemas/";
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) throw new InvalidOperationException($"Unsupported $ref {name}");
            schema = _schemas.GetProperty(name[Prefix.Length..]);
        }
        return schema;
    }

    public static IReadOnlyList<string> Types(JsonElement schema) =>
        !schema.TryGetProperty("type", out var type) ? []
        : type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList()
        : [type.GetString()!];

    public string? Check(JsonElement value, JsonElement schema, string path = "$")
    {
        schema = Resolve(schema);
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var errors = oneOf.EnumerateArray().Select(s => Check(value, s, path)).ToList();
            return errors.Any(e => e is null) ? null : $"{path} matches none of oneOf: {string.Join(" / ", errors)}";
        }
        if (schema.TryGetProperty("enum", out var values) && !values.EnumerateArray().Any(v => JsonElement.DeepEquals(v, value)))
            return $"{path} = {Short(value)} is not one of {values}";
        var types = Types(schema);
        if (types.Count > 0 && !types.Any(t => IsOfType(value, t, schema)))
            return $"{path} = {Short(value)} is not of type {string.Join("|", types)}";
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var text = value.GetString()!;
                if (schema.TryGetProperty("maxLength", out var max) && text.Length > max.GetInt32()) return $"{path} is longer than maxLength {max}";
                if (schema.TryGetProperty("minLength", out var min) && text.Length < min.GetInt32()) return $"{path} is shorter than minLength {min}";
                if (schema.TryGetProperty("format", out var format) && format.GetString() == "date-time" && !DateTimeOffset.TryParse(text, out _))
                    return $"{path} = {text} is not a date-time";
                break;
            case JsonValueKind.Number:
                if (schema.TryGetProperty("minimum", out var minimum) && value.GetDecimal() < Number(minimum)) return $"{path} is below minimum {minimum}";
                if (schema.TryGetProperty("maximum", out var maximum) && value.GetDecimal() > Number(maximum)) return $"{path} is above maximum {maximum}";
                break;
            case JsonValueKind.Array:
                if (schema.TryGetProperty("minItems", out var minItems) && value.GetArrayLength() < minItems.GetInt32()) return $"{path} has fewer than {minItems} items";
                if (schema.TryGetProperty("items", out var items))
                {
                    var index = 0;
                    foreach (var item in value.EnumerateArray())
                        if (Check(item, items, $"{path}[{index++}]") is { } error) return error;
                }
                break;
            case JsonValueKind.Object:
                if (schema.TryGetProperty("required", out var required))
                    foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
                        if (!value.TryGetProperty(name, out _)) return $"{path} lacks the required member {name}";
                if (schema.TryGetProperty("properties", out var properties))
                    foreach (var member in value.EnumerateObject())
                        if (properties.TryGetProperty(member.Name, out var memberSchema) && Check(member.Value, memberSchema, $"{path}.{member.Name}") is { } error)
                            return error;
                break;
        }
        return null;
    }

    private static bool IsOfType(JsonElement value, string type, JsonElement schema) => type switch
    {
        "null" => value.ValueKind == JsonValueKind.Null,
        "string" => value.ValueKind == JsonValueKind.String
            && (!schema.TryGetProperty("pattern", out var pattern) || Regex.IsMatch(value.GetString()!, pattern.GetString()!)),
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        _ => throw new InvalidOperationException($"Unsupported schema type {type}"),
    };

    private static decimal Number(JsonElement bound) =>
        bound.ValueKind == JsonValueKind.String ? decimal.Parse(bound.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : bound.GetDecimal();

    private static string Short(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length <= 80 ? text : text[..80] + "...";
    }
}
