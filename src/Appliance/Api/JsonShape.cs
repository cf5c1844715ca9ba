using System.Text;
using System.Text.Json;

namespace Appliance.Api;

/// <summary>Checks on a JSON request body before it is bound, and the words for a body that cannot be bound.</summary>
internal static class JsonShape
{
    /// <summary>
    /// The JSON path of the first null item of an array (<c>$.recipients[1]</c>), or null when there is none (or the
    /// body is not JSON, which binding then refuses). No API list takes null items: refusing them here keeps every
    /// handler from meeting a null where its contract says a value.
    /// </summary>
    public static string? NullInArray(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        var path = new List<(bool IsArray, int Index, string? Name)>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        path[^1] = (false, 0, reader.GetString());
                        continue;
                    case JsonTokenType.EndArray or JsonTokenType.EndObject:
                        path.RemoveAt(path.Count - 1);
                        continue;
                }
                // A value: the next item when its container is an array.
                if (path.Count > 0 && path[^1].IsArray)
                {
                    path[^1] = (true, path[^1].Index + 1, null);
                    if (reader.TokenType == JsonTokenType.Null) return PathOf(path);
                }
                if (reader.TokenType == JsonTokenType.StartArray) path.Add((true, -1, null));
                else if (reader.TokenType == JsonTokenType.StartObject) path.Add((false, 0, null));
            }
        }
        catch (JsonException)
        {
            // Not JSON: the serializer refuses it with the position.
        }
        return null;
    }

    /// <summary>
    /// A serializer refusal in the admin's words: where in the body, without the service's type names. Decided from the
    /// body and the exception's path, not its message (NativeAOT strips the serializer's message texts to resource keys).
    /// </summary>
    public static string Words(JsonException e, ReadOnlySpan<byte> json)
    {
        var line = e.LineNumber is { } l ? $" (line {l + 1}, byte {e.BytePositionInLine + 1})" : "";
        if (!IsWellFormed(json)) return $"the body is not well-formed JSON{line}.";
        if (e.Message.Contains("required", StringComparison.OrdinalIgnoreCase))
        {
            var names = System.Text.RegularExpressions.Regex.Matches(e.Message, "'([A-Za-z]+)'").Select(m => m.Groups[1].Value).Where(n => char.IsLower(n[0]));
            return $"a required member is missing: {string.Join(", ", names)}.";
        }
        return $"the value at {e.Path ?? "$"} is not of the type this route takes{line}.";
    }

    private static bool IsWellFormed(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read()) { }
            return reader.BytesConsumed > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string PathOf(List<(bool IsArray, int Index, string? Name)> path)
    {
        var text = new StringBuilder("$");
        foreach (var (isArray, index, name) in path)
        {
            if (isArray) text.Append('[').Append(index).Append(']');
            else if (name is not null) text.Append('.').Append(name.Length <= 64 ? name : name[..64] + "...");
        }
        return text.ToString();
    }
}
