// An ISR page (an hour) whose data comes from a fetch tagged `bench`: the page's entry carries
// the tag too, so revalidateTag('bench') in any instance reaches both.
export const revalidate = 3600
export const dynamicParams = true
export function generateStaticParams() {
  return []
}

export default async function Page({ params }) {
  const { id } = await params
  const response = await fetch(`http://127.0.0.1:${process.env.PORT}/api/source`, {
    cache: 'force-cache',
    next: { tags: ['bench'] },
  })
  const { value } = await response.json()
  return (
    <main>
      <h1>Item {id}</h1>
      <p>
        value: <output data-value={value}>{value}</output>
      </p>
      <ul>
        {Array.from({ length: 20 }, (_, i) => (
          <li key={i}>row {i} of a page of a typical size</li>
        ))}
      </ul>
    </main>
  )
}
