// Tutti shim: ankerl::unordered_dense on top of Debian's abseil (see meson.build).
// Differences that matter to mediasoup: absl's erase(iterator) returns void, so
// map/set add an erase that returns the next iterator (absl erase only
// invalidates the erased element); iteration order is not insertion order.
#ifndef TUTTI_SHIM_ANKERL_UNORDERED_DENSE_H
#define TUTTI_SHIM_ANKERL_UNORDERED_DENSE_H

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>
#include <functional>
#include <iterator>

namespace ankerl::unordered_dense
{
	template<class T>
	using hash = absl::Hash<T>;

	template<class Key, class T, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>>
	class map : public absl::flat_hash_map<Key, T, Hash, KeyEqual>
	{
		using Base = absl::flat_hash_map<Key, T, Hash, KeyEqual>;

	public:
		using Base::Base;
		using Base::erase;
		using typename Base::const_iterator;
		using typename Base::iterator;

		iterator erase(iterator it)
		{
			auto next = std::next(it);
			Base::erase(it);
			return next;
		}
		iterator erase(const_iterator it)
		{
			return erase(Base::find(it->first));
		}
	};

	template<class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>>
	class set : public absl::flat_hash_set<Key, Hash, KeyEqual>
	{
		using Base = absl::flat_hash_set<Key, Hash, KeyEqual>;

	public:
		using Base::Base;
		using Base::erase;
		using typename Base::iterator;

		iterator erase(iterator it)
		{
			auto next = std::next(it);
			Base::erase(it);
			return next;
		}
	};
} // namespace ankerl::unordered_dense

#endif
